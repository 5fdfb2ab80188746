// Which plan `loadctl start` runs: a file, ./loadplan.json, or one built from
// flags, with flags overriding the plan's values.
#ifndef LOADD_CTL_PLAN_SOURCE_H_
#define LOADD_CTL_PLAN_SOURCE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "common/plan.h"
#include "common/status.h"
#include "ctl/files.h"

namespace loadd {

inline constexpr char kDefaultPlanFile[] = "loadplan.json";
// Plan files larger than this are refused (a data file is read separately).
inline constexpr size_t kMaxPlanFileBytes = size_t{16} << 20;

// The flags of `loadctl start` that shape the plan, as typed; empty = unset.
struct PlanFlags {
  std::string plan_file;            // the PLAN argument
  std::string users;                // --users, a count ("200", "10k"): closed model
  std::string spawn_rate;           // --spawn-rate, users per second
  std::string arrival_rate;         // --arrival-rate, iterations per second: open model
  std::string max_in_flight;        // --max-in-flight, a count
  std::string duration;             // --duration ("30s")
  std::string timeout;              // --timeout, per request ("10s")
  std::string expect_workers;       // --expect-workers, a count
  std::string expect_timeout;       // --expect-timeout ("30s")
  std::string name;                 // --name
  std::string target;               // --target, base URL; alone it means "GET this URL"
  std::vector<std::string> env;     // --env KEY=VALUE, repeatable, in order
  std::vector<std::string> labels;  // --label KEY=VALUE, repeatable
  bool no_queue = false;            // --no-queue: sets $.queue false
};

struct ResolvedPlan {
  std::string source;  // the plan file's path, or "flags"
  std::string json;    // what to POST: the plan document with the flags applied
  Plan plan;           // json as ParsePlan read it
};

// Picks the plan: flags.plan_file, else ./loadplan.json when it exists, else
// a quick plan {"target": --target} that GETs the target (then exactly one of
// --users and --arrival-rate is required). Applies the flags and validates
// with ParsePlan, so the messages match the coordinator's.
//
// A plan file's $.data.file is read and inlined (data_inline.h); --env
// values are set in $.env (plan_env.h); --label values in $.labels, each
// replacing the plan's label of the same key (common/labels.h has the rules;
// a malformed --label is refused whatever the plan holds).
//
// A flag replaces the plan's field of the same name. --users removes the
// open model's arrival_rate and max_in_flight; --arrival-rate removes the
// closed model's users and spawn_rate. --users, --spawn-rate, --arrival-rate
// and --duration are refused on a plan with stages (the stages set the load
// and its duration), and --users with --arrival-rate is refused outright.
//
// A bad plan is kInvalidArgument with the message "invalid plan: <path>:
// <reason>", where <path> is the flag's name when a flag supplied the
// offending value or is refused.
Result<ResolvedPlan> ResolvePlan(const PlanFlags& flags, Files* files);

// "invalid plan: <path>: <message>" with the cause's code (also used for the
// coordinator's 400 answers to a plan).
Status InvalidPlan(const Status& cause);

}  // namespace loadd

#endif  // LOADD_CTL_PLAN_SOURCE_H_
