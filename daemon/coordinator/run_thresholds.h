// The threshold evaluator: a pure function from a threshold (its typed
// form, common/threshold.h) and the run's statistics to a verdict. No clock,
// no run state: the caller passes the elapsed time and decides what a
// verdict does (Run aborts the run on an abort_on_fail failure, and keeps
// the verdicts when the run ends; run_verdict.cc). docs/thresholds.md has
// the metrics and what "nothing to measure" means for each.
#ifndef LOADD_DAEMON_COORDINATOR_RUN_THRESHOLDS_H_
#define LOADD_DAEMON_COORDINATOR_RUN_THRESHOLDS_H_

#include <map>
#include <string>
#include <vector>

#include "common/run_records.h"
#include "common/threshold.h"
#include "daemon/coordinator/run_stats.h"

namespace loadd {

// One threshold's verdict on the run's data.
struct ThresholdResult {
  bool measured = false;  // false: nothing to measure yet; actual is null
  double actual = 0;      // us for latencies, a fraction for rates, 1/s for rps
  bool passed = false;
  std::string message;  // the actual value against the condition, or why none
};

// What the evaluator reads; references into the run's statistics, valid for
// the call.
struct ThresholdData {
  const EndpointTotals& aggregated;                     // http.*
  const std::vector<EndpointTotals>& endpoints;         // step:NAME.*
  const std::map<std::string, size_t>& endpoint_index;  // name -> endpoints[i]
  const std::map<std::string, CheckTotals>& checks;     // checks.pass_rate
  double elapsed_s = 0;                                 // run time measured so far (rps)
};

// Missing data (no requests, no checks, a step not seen, no time) gives
// measured == false with a message saying why, and passed == false.
ThresholdResult EvaluateThreshold(const Threshold& t, const ThresholdData& data);

// A verdict as REST and the store carry it (common/run_records.h): with the
// threshold's key and condition when t is given (REST), without (the store).
ThresholdRecord ThresholdRecordOf(const ThresholdResult& r, const Threshold* t);
ThresholdResult ThresholdResultOf(const ThresholdRecord& record);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_RUN_THRESHOLDS_H_
