// Run comparison (docs/compare.md): two runs' steady-state seconds in, a
// verdict per endpoint and metric out, with the warnings that say when the
// runs are not comparable. Pure: the caller (the coordinator's
// GET /v1/compare) gathers the runs; loadctl renders the JSON.
#ifndef LOADD_COMMON_COMPARE_RUN_COMPARE_H_
#define LOADD_COMMON_COMPARE_RUN_COMPARE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/compare/compare_stats.h"
#include "common/json.h"
#include "common/status.h"

namespace loadd {

struct Plan;

// What a run was asked to do and what it did, as far as comparability goes.
struct RunFacts {
  std::string id;
  std::string name;         // the plan's $.name
  std::string state;        // "finished", ...
  std::string plan_json;    // the normalized (redacted) plan, for the plan diff
  std::string model;        // "closed" or "open"
  int64_t users = 0;        // closed: the plan's peak users
  double arrival_rate = 0;  // open: peak arrivals per second
  int64_t workers = 0;      // workers the run was placed on
  double duration_s = 0;    // the plan's duration
  // The steady-state window [from_s, to_s) of run time: the seconds the
  // plan's load holds at its peak (see SteadyWindow).
  int64_t steady_from_s = 0, steady_to_s = 0;
  bool plateau = true;  // false: the load never holds at its peak a whole second
  std::vector<std::string> warnings;  // the run's own (CPU, data), as messages
};

// The whole seconds [from, to) throughout which the plan's load (users or
// arrivals per second) is at its peak; {0, duration} rounded when it never is
// for a whole second (with *plateau false).
std::pair<int64_t, int64_t> SteadyWindow(const Plan& plan, bool* plateau);

struct EndpointCounts {
  int64_t requests = 0, failures = 0;
};

struct RunSamples {
  RunFacts facts;
  // The aggregate: every second of the timeline with its requests,
  // failures and the merge of the endpoints' latencies.
  Series aggregate;
  // Per endpoint (by name): its seconds' latencies; requests = responses
  // in the histogram, failures unknown (0).
  std::map<std::string, Series> endpoints;
  std::map<std::string, EndpointCounts> totals;  // whole-run, per endpoint
};

struct CompareOptions {
  double min_change_pct = 5;  // the practical minimum, relative
  // The practical minimum of an error rate change, absolute (on top of
  // min_change_pct): 0.1 percentage points.
  double min_error_rate_change = 0.001;
  double alpha = 0.01;  // significance level of every test
  bool include_ramp = false;
  int min_seconds = 5;              // fewer steady seconds: no tests
  double error_rate_warning = 0.5;  // errors "dominate" above this
  BootstrapOptions bootstrap;
};

enum class Verdict { kNoChange, kSlower, kFaster, kLower, kHigher };
const char* VerdictName(Verdict verdict);

struct MetricResult {
  std::string key;      // "rps", "error_rate", "p50", ..., "max"
  bool latency = true;  // values in microseconds (base_us ...)
  double base = 0, candidate = 0;
  std::optional<double> change_pct;  // null when base is 0
  std::optional<double> p_value;     // null when not tested (see note)
  Verdict verdict = Verdict::kNoChange;
  const char* worse = "higher";  // the direction that is worse
  std::string note;              // why not tested, or the test used
};

struct EndpointResult {
  std::string name;
  std::vector<MetricResult> metrics;
};

struct CompareWarning {
  std::string kind;  // plan, load, workers, duration, errors, samples, endpoint, state
  std::string message;
};

struct CompareResult {
  std::string base_id, candidate_id;
  CompareOptions options;
  int block_s = 0;
  size_t base_seconds = 0, candidate_seconds = 0;  // steady seconds used
  // The windows [from_s, to_s) they came from (the whole run with
  // include_ramp).
  std::pair<int64_t, int64_t> base_window, candidate_window;
  EndpointResult aggregated;
  std::vector<EndpointResult> endpoints;  // matched by name, sorted
  std::vector<CompareWarning> warnings;
};

CompareResult CompareRuns(const RunSamples& base, const RunSamples& candidate,
                          const CompareOptions& options);

// The contract of GET /v1/compare and `loadctl compare --json`
// (docs/compare.md).
void WriteCompare(const CompareResult& result, JsonWriter* w);

}  // namespace loadd

#endif  // LOADD_COMMON_COMPARE_RUN_COMPARE_H_
