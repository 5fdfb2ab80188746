// The load plan: what traffic to send, how many users, for how long.
//
// One parser serves the coordinator (POST /v1/runs), loadctl (validation and
// quick plans) and the worker (the plan arrives normalized over the bus), so
// every rejection reads the same everywhere and names the JSON path at fault.
// docs/plan.md is the reference for people.
#ifndef LOADD_COMMON_PLAN_H_
#define LOADD_COMMON_PLAN_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/data_file.h"
#include "common/http_options.h"
#include "common/json.h"
#include "common/labels.h"
#include "common/load_profile.h"
#include "common/scenario.h"
#include "common/status.h"
#include "common/threshold.h"
#include "common/url.h"

namespace loadd {

struct RequestSpec {
  std::string name;    // the stats key; default "METHOD /path"
  std::string method;  // upper case
  Url url;             // absolute, resolved against Plan::target
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t weight = 1;  // share of a user's iterations, relative to siblings
};

// Closed model: a fixed population of users, each looping over requests.
// Open model: iterations arrive at a rate, whatever the target's latency.
enum class LoadModel { kClosed, kOpen };

// One stage of a ramp: over `duration`, move linearly to `target` users
// (closed) or arrivals per second (open).
struct Stage {
  int64_t duration_ns = 0;
  double target = 0;
};

// $.workers: which workers a run needs (docs/plan.md). count 0: every live
// worker that matches; labels empty: any worker.
struct WorkerSelector {
  static constexpr int64_t kMaxCount = 100'000;
  int64_t count = 0;
  Labels labels;
  bool operator==(const WorkerSelector&) const = default;
};

// The paths the two refusals of the run queue carry (docs/rest-api.md): a
// run with "queue": false whose workers are busy (409), and a run that would
// queue past the coordinator's --max-queued (429). loadctl exits with its
// "fleet busy" code on both (ctl/exit_code.h).
inline constexpr char kQueueFieldPath[] = "$.queue";
inline constexpr char kMaxQueuedFlag[] = "--max-queued";

struct Plan {
  // Upper bounds that hold whatever the operator configures.
  static constexpr int64_t kMaxUsers = 10'000'000;
  static constexpr double kMaxRate = 10'000'000;
  static constexpr int64_t kMaxStages = 100;
  static constexpr int64_t kMaxRequests = 1000;
  static constexpr size_t kMaxNames = 256;  // distinct request names (stats rows)
  static constexpr size_t kMaxBodyBytes = 1 << 20;

  static constexpr size_t kMaxNameBytes = 256;

  // Run metadata for people and pipelines: a name (at most 256 bytes, no
  // control characters) and labels (common/labels.h: "branch": "main").
  std::string name;
  Labels labels;
  std::string target;  // base URL as given; may be empty
  LoadModel model = LoadModel::kClosed;
  int64_t users = 0;              // closed: peak concurrent users, fleet-wide
  double spawn_rate = 0;          // closed, simple form: users started per second
  double arrival_rate = 0;        // open, constant form: iterations per second
  double start_rate = 0;          // open, staged form: the rate at time 0
  std::vector<Stage> stages;      // staged form (either model); empty otherwise
  int64_t max_in_flight = 0;      // open: iterations in flight at most, fleet-wide
  int64_t expect_workers = 0;     // wait for this many live workers before starting
  int64_t expect_timeout_ns = 0;  // ... for at most this long
  // Placement and the run queue (docs/plan.md): the workers it needs, its
  // place among queued runs (higher first), and whether it may queue at all.
  static constexpr int64_t kMaxPriority = 1000;
  WorkerSelector workers;
  int64_t priority = 0;          // -kMaxPriority..kMaxPriority
  bool queue = true;             // false: refused (409) rather than queued
  int64_t duration_ns = 0;       // how long load runs (the sum of stages, if any)
  int64_t timeout_ns = 0;        // per request
  int64_t graceful_stop_ns = 0;  // at the end, in-flight requests get this long
  // Either requests (each iteration picks one, by weight) or scenarios
  // (each user follows one scenario's steps in order).
  std::vector<RequestSpec> requests;
  std::vector<Scenario> scenarios;
  std::string scenarios_json;  // as given, compact: travels to workers verbatim
  std::map<std::string, std::string> env;  // values given at start ({{env.NAME}})
  // The env names marked public ({"value": ..., "public": true}); the other
  // values are secrets, redacted in every view (common/redact.h).
  std::set<std::string> public_env;
  DataFile data;                                    // empty() when the plan has none
  HttpOptions http;                                 // cookies, HTTP version, TLS
  int64_t regex_max_bytes = kDefaultRegexMaxBytes;  // body bytes regexes search
  std::vector<Threshold> thresholds;

  // The load over run time: users (closed) or arrivals per second (open).
  LoadProfile Profile() const;
  // Users per second at which a moved share of users is restarted when a
  // worker joins or leaves mid-run, so the fleet never sees a burst.
  double HandoverRate() const;
};

// Parses and validates a plan. Missing optional fields take their defaults
// (docs/plan.md). Every error names the JSON path ("$.requests[1].method").
// A secret that reads "(redacted)" (a run's plan copied from its report) is
// refused (RefuseRedacted in redact.h).
Result<Plan> ParsePlan(std::string_view json);
// As ParsePlan, but a redacted secret is accepted: for plans this program
// wrote itself (a stored run's, redacted; a worker's, whole).
Result<Plan> PlanFromJson(const rapidjson::Value& value);

// The normalized plan as JSON: every default filled in, ParsePlan accepts it.
// It holds the plan's secrets: views write RedactedPlanJson (redact.h).
std::string PlanToJson(const Plan& plan);
void WritePlan(const Plan& plan, JsonWriter* w);
// The plan as a worker gets it (AssignMsg): without the run's labels, which
// no worker needs and workers older than labels would refuse.
void WritePlanForWorkers(const Plan& plan, JsonWriter* w);
// WritePlan's body; with_labels false for WritePlanForWorkers.
void WritePlanFields(const Plan& plan, bool with_labels, JsonWriter* w);

}  // namespace loadd

#endif  // LOADD_COMMON_PLAN_H_
