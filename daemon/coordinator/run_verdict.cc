// The end of a run and its thresholds' verdict: why it ended (end_reason,
// common/run_end.h), each worker's final stats, and the thresholds evaluated
// from their typed form (common/threshold.h) on the merged statistics.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/threshold.h"
#include "daemon/coordinator/run.h"

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

// Latencies as whole us (mean to 0.1 us), rates to 6 decimals, rps to 0.1.
void WriteActual(JsonWriter* w, ThresholdMetric metric, const ThresholdResult& r) {
  w->Key("actual");
  if (!r.measured) {
    w->Null();
  } else if (UnitOf(metric) == MetricUnit::kFraction) {
    w->Double(std::round(r.actual * 1e6) / 1e6);
  } else if (metric == ThresholdMetric::kRps || metric == ThresholdMetric::kMean) {
    w->Double(std::round(r.actual * 10) / 10);
  } else {
    w->Int64(static_cast<int64_t>(r.actual));
  }
}

}  // namespace

RunState StateOf(EndReason reason) {
  switch (reason) {
    case EndReason::kCompleted:
      return RunState::kFinished;
    case EndReason::kStopped:
    case EndReason::kAbortedByThreshold:
      return RunState::kStopped;
    case EndReason::kNoWorkers:
    case EndReason::kAllWorkersLost:
      return RunState::kFailed;
    case EndReason::kInterrupted:
      return RunState::kInterrupted;
  }
  return RunState::kFailed;
}

void Run::End(EndReason reason, int64_t now_ns, std::string message) {
  end_reason_ = reason;
  SetState(StateOf(reason), now_ns, std::move(message));
}

EndReason Run::DerivedEndReason() const {
  switch (state_) {
    case RunState::kStopped:
      return aborted() ? EndReason::kAbortedByThreshold : EndReason::kStopped;
    case RunState::kFailed:
      return workers_.empty() ? EndReason::kNoWorkers : EndReason::kAllWorkersLost;
    case RunState::kInterrupted:
      return EndReason::kInterrupted;
    default:
      return EndReason::kCompleted;
  }
}

FinalStats Run::FinalStatsOf(const RunWorker& worker) const {
  if (worker.lost) return FinalStats::kLost;
  if (worker.final) return FinalStats::kReceived;
  return IsFinal(state_) ? FinalStats::kMissing : FinalStats::kPending;
}

void Run::WriteEnd(JsonWriter* w) const {
  w->Key("end_reason");
  if (end_reason_ && IsFinal(state_)) {
    w->String(EndReasonName(*end_reason_));
  } else {
    w->Null();
  }
  w->Key("aborted_by");
  if (aborted() && *aborted_index_ < plan_.thresholds.size()) {
    WriteString(w, plan_.thresholds[*aborted_index_].key);
  } else {
    w->Null();
  }
}

ThresholdResult Run::Evaluate(const Threshold& t, int64_t now_ns) const {
  ThresholdResult r;
  std::optional<double> actual;
  const ThresholdMeasure& m = t.measure;
  switch (m.scope) {
    case ThresholdScope::kChecks: {
      CheckTotals sum;
      for (const auto& [name, c] : checks_) {
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
      actual = MetricOf(Aggregated(), m, ElapsedSeconds(now_ns), &r.message);
      break;
    case ThresholdScope::kStep: {
      auto it = endpoint_index_.find(m.step);
      if (it == endpoint_index_.end()) {
        r.message = "no step named \"" + m.step + "\" reported in this run";
      } else {
        actual = MetricOf(endpoints_[it->second], m, ElapsedSeconds(now_ns), &r.message);
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

std::vector<ThresholdResult> Run::EvaluateAll(int64_t now_ns) const {
  std::vector<ThresholdResult> results;
  for (size_t i = 0; i < plan_.thresholds.size(); ++i) {
    results.push_back(aborted_index_ == i ? aborted_result_
                                          : Evaluate(plan_.thresholds[i], now_ns));
  }
  return results;
}

bool Run::AbortOnThresholds(int64_t now_ns) {
  if (state_ != RunState::kRunning || aborted()) return false;
  for (size_t i = 0; i < plan_.thresholds.size(); ++i) {
    const Threshold& t = plan_.thresholds[i];
    if (!t.abort_on_fail || now_ns - start_ns_ < t.delay_ns) continue;
    ThresholdResult r = Evaluate(t, now_ns);
    if (!r.measured || r.passed) continue;
    char at[32];
    std::snprintf(at, sizeof at, "%.1fs", static_cast<double>(now_ns - start_ns_) / 1e9);
    r.message += std::string("; aborted the run at ") + at;
    aborted_index_ = i;
    aborted_result_ = r;
    SetState(RunState::kStopping, now_ns,
             "threshold " + t.key + " " + t.condition + " failed (actual " +
                 FormatMetricValue(t.measure.metric, r.actual) + "); run aborted");
    return true;
  }
  return false;
}

bool Run::ThresholdsPassed() const {
  if (aborted()) return false;
  return std::all_of(results_.begin(), results_.end(),
                     [](const ThresholdResult& r) { return r.passed; });
}

void Run::WriteThresholds(JsonWriter* w, int64_t now_ns) const {
  std::vector<ThresholdResult> live;
  const std::vector<ThresholdResult>* results = &results_;
  if (!IsFinal(state_)) {
    live = EvaluateAll(now_ns);
    results = &live;
  }
  w->Key("thresholds");
  w->StartArray();
  for (size_t i = 0; i < plan_.thresholds.size() && i < results->size(); ++i) {
    const Threshold& t = plan_.thresholds[i];
    const ThresholdResult& r = (*results)[i];
    w->StartObject();
    WriteField(w, "key", t.key);
    WriteField(w, "condition", t.condition);
    WriteActual(w, t.measure.metric, r);
    w->Key("passed");
    w->Bool(r.passed);
    WriteField(w, "message", r.message);
    w->EndObject();
  }
  w->EndArray();
  WriteThresholdsPassed(w);
}

void Run::WriteThresholdsPassed(JsonWriter* w) const {
  w->Key("thresholds_passed");
  if (IsFinal(state_)) {
    w->Bool(ThresholdsPassed());
  } else {
    w->Null();  // not decided while the run goes on
  }
}

}  // namespace loadd
