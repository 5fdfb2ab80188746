#include "daemon/coordinator/run_thresholds.h"

#include <optional>

namespace loadd {
namespace {

// An http.* or step:*.* metric on one set of totals; nullopt (and *why)
// when there is nothing to measure.
std::optional<double> MetricOf(const EndpointTotals& e, const ThresholdMeasure& m,
                               double seconds, std::string* why) {
  const HdrHistogram& h = e.latency_us;
  switch (m.metric) {
    case ThresholdMetric::kRps:
      if (seconds <= 0) break;
      return static_cast<double>(e.requests) / seconds;
    case ThresholdMetric::kErrorRate:
      if (e.requests <= 0) break;
      return static_cast<double>(e.failures) / static_cast<double>(e.requests);
    case ThresholdMetric::kPassRate:  // checks only (ParseThresholdKey)
      *why = "pass_rate is measured on checks";
      return std::nullopt;
    case ThresholdMetric::kPercentile:
    case ThresholdMetric::kMin:
    case ThresholdMetric::kMax:
    case ThresholdMetric::kMean:
      if (h.TotalCount() <= 0) break;
      if (m.metric == ThresholdMetric::kMin) return static_cast<double>(h.Min());
      if (m.metric == ThresholdMetric::kMax) return static_cast<double>(h.Max());
      if (m.metric == ThresholdMetric::kMean) return h.Mean();
      return static_cast<double>(h.ValueAtPercentile(m.percentile));
  }
  *why = m.metric == ThresholdMetric::kRps         ? "the run measured no time"
         : m.metric == ThresholdMetric::kErrorRate ? "no requests completed"
                                                   : "no latencies recorded";
  return std::nullopt;
}

}  // namespace

ThresholdResult EvaluateThreshold(const Threshold& t, const ThresholdData& data) {
  ThresholdResult r;
  std::optional<double> actual;
  const ThresholdMeasure& m = t.measure;
  switch (m.scope) {
    case ThresholdScope::kChecks: {
      CheckTotals sum;
      for (const auto& [name, c] : data.checks) {
        sum.passed += c.passed;
        sum.failed += c.failed;
      }
      int64_t ran = sum.passed + sum.failed;
      if (ran > 0) {
        actual = static_cast<double>(sum.passed) / static_cast<double>(ran);
      } else {
        r.message = "no checks ran";
      }
      break;
    }
    case ThresholdScope::kHttp:
      actual = MetricOf(data.aggregated, m, data.elapsed_s, &r.message);
      break;
    case ThresholdScope::kStep: {
      auto it = data.endpoint_index.find(m.step);
      if (it == data.endpoint_index.end()) {
        r.message = "no step named \"" + m.step + "\" reported in this run";
      } else {
        actual = MetricOf(data.endpoints[it->second], m, data.elapsed_s, &r.message);
      }
      break;
    }
  }
  if (!actual) return r;
  r.measured = true;
  r.actual = *actual;
  r.passed = ThresholdHolds(t, *actual);
  r.message = "actual " + FormatMetricValue(m.metric, *actual) +
              (r.passed ? " meets " : " misses ") + t.condition;
  return r;
}

ThresholdRecord ThresholdRecordOf(const ThresholdResult& r, const Threshold* t) {
  ThresholdRecord record;
  if (t != nullptr) {
    record.key = t->key;
    record.condition = t->condition;
  }
  record.measured = r.measured;
  record.actual = r.actual;
  record.passed = r.passed;
  record.message = r.message;
  return record;
}

ThresholdResult ThresholdResultOf(const ThresholdRecord& record) {
  return ThresholdResult{record.measured, record.actual, record.passed, record.message};
}

}  // namespace loadd
