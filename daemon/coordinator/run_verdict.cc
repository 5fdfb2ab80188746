// Run: the end of a run and its thresholds: why it ended (end_reason,
// common/run_end.h), each worker's final stats, abort on fail, and the
// verdicts the pure evaluator (run_thresholds.h) gives on the merged statistics.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/threshold.h"
#include "daemon/coordinator/run.h"
#include "daemon/coordinator/run_thresholds.h"

namespace loadd {
namespace {}  // namespace

void Run::End(EndReason reason, int64_t now_ns, std::string message) {
  if (!IsLegalTransition(state_, StateOf(reason))) {
    ReportIllegalTransition(state_, StateOf(reason));  // an ended run keeps its reason
    return;
  }
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

ThresholdData Run::ThresholdDataAt(int64_t now_ns) const {
  return ThresholdData{Aggregated(), stats_.endpoints(), stats_.endpoint_index(),
                       stats_.checks(), ElapsedSeconds(now_ns)};
}

std::vector<ThresholdResult> Run::EvaluateAll(int64_t now_ns) const {
  std::vector<ThresholdResult> results;
  const ThresholdData data = ThresholdDataAt(now_ns);
  for (size_t i = 0; i < plan_.thresholds.size(); ++i) {
    results.push_back(aborted_index_ == i ? aborted_result_
                                          : EvaluateThreshold(plan_.thresholds[i], data));
  }
  return results;
}

bool Run::AbortOnThresholds(int64_t now_ns) {
  if (state_ != RunState::kRunning || aborted()) return false;
  for (size_t i = 0; i < plan_.thresholds.size(); ++i) {
    const Threshold& t = plan_.thresholds[i];
    if (!t.abort_on_fail || now_ns - start_ns_ < t.delay_ns) continue;
    ThresholdResult r = EvaluateThreshold(t, ThresholdDataAt(now_ns));
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

}  // namespace loadd
