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
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace loadd {

// Where a threshold measures: every endpoint merged, one step (or request)
// by name, or the checks.
enum class ThresholdScope { kHttp, kStep, kChecks };

// What it measures. Latencies (percentiles, min, max, mean) are in
// microseconds, error_rate and pass_rate are fractions, rps is 1/s.
enum class ThresholdMetric {
  kPercentile,
  kMin,
  kMax,
  kMean,
  kErrorRate,
  kRps,
  kPassRate
};

enum class MetricUnit { kMicros, kFraction, kPerSecond };
MetricUnit UnitOf(ThresholdMetric metric);

enum class Comparison { kLess, kLessOrEqual, kGreater, kGreaterOrEqual };

// What a key names: "step:/cart.p(99)" is {kStep, "/cart", kPercentile, 99}.
struct ThresholdMeasure {
  ThresholdScope scope = ThresholdScope::kHttp;
  std::string step;  // kStep only: the step or request name
  ThresholdMetric metric = ThresholdMetric::kPercentile;
  double percentile = 0;  // kPercentile only: 50, 90, 95, 99 or 99.9
};

// A threshold parsed once, when the plan is read; evaluation (the
// coordinator), formatting and loadctl use these fields, never the strings.
struct Threshold {
  std::string key;  // as written, e.g. "step:/cart.p99"
  ThresholdMeasure measure;
  Comparison comparison = Comparison::kLess;
  double value = 0;       // in the metric's unit (MetricUnit)
  std::string condition;  // as written, e.g. "<250ms"
  bool abort_on_fail = false;
  int64_t delay_ns = 0;  // abort is not evaluated before this run time
};

// Reads $.thresholds (an object; nullptr means none).
Status ReadThresholds(const rapidjson::Value* value, std::vector<Threshold>* out);
void WriteThresholds(const std::vector<Threshold>& thresholds, JsonWriter* w);

// Parses a key ("http.p95", "step:GET /a.b.p(99.9)", "checks.pass_rate");
// an error names `path`. loadctl reads the keys of a run's thresholds[] so.
Status ParseThresholdKey(std::string_view key, const std::string& path,
                         ThresholdMeasure* out);

// The parts of a key in their canonical spelling: "http", "step:/cart",
// "checks"; "p95", "p99.9", "mean", "error_rate"; "<", "<=", ">", ">=".
std::string ScopeName(const ThresholdMeasure& measure);
std::string MetricName(const ThresholdMeasure& measure);
const char* ComparisonSymbol(Comparison comparison);

// A value of the metric in people's units: "312.0ms" for latencies, "1.25%"
// for rates, "512.3/s" for rps.
std::string FormatMetricValue(ThresholdMetric metric, double value);

// True when `actual` satisfies the threshold's condition.
bool ThresholdHolds(const Threshold& t, double actual);

}  // namespace loadd

#endif  // LOADD_COMMON_THRESHOLD_H_
