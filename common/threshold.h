// Thresholds: pass/fail criteria on a run's fleet-wide merged statistics,
// the CI gate. A plan writes them as {"key": "condition"}:
//
//   "http.p95": "<250ms"          latency percentile over all endpoints
//   "http.error_rate": "<1%"      failures / requests over all endpoints
//   "step:/cart.p99": "<500ms"    one endpoint (step or request name)
//   "checks.pass_rate": ">99%"    passed / run checks
//
// or {"key": {"condition": "<250ms", "abort_on_fail": true, "delay": "10s"}}
// to stop the run as soon as the threshold fails, once `delay` of run time
// has passed. Keys, metrics and conditions are validated with errors naming
// the JSON path.
#ifndef LOADD_COMMON_THRESHOLD_H_
#define LOADD_COMMON_THRESHOLD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace loadd {

struct Threshold {
  std::string key;        // as written, e.g. "step:/cart.p99"
  std::string scope;      // "http", "step:<name>" or "checks"
  std::string metric;     // p50 p90 p95 p99 p99.9 min max mean error_rate rps pass_rate
  std::string op;         // "<", "<=", ">", ">="
  double value = 0;       // microseconds for latencies, a fraction for rates, 1/s for rps
  std::string condition;  // as written, e.g. "<250ms"
  bool abort_on_fail = false;
  int64_t delay_ns = 0;  // abort is not evaluated before this run time
};

// Reads $.thresholds (an object; nullptr means none).
Status ReadThresholds(const rapidjson::Value* value, std::vector<Threshold>* out);
void WriteThresholds(const std::vector<Threshold>& thresholds, JsonWriter* w);

// True when `actual` satisfies the threshold's condition.
bool ThresholdHolds(const Threshold& t, double actual);

}  // namespace loadd

#endif  // LOADD_COMMON_THRESHOLD_H_
