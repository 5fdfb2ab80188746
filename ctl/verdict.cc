#include "ctl/verdict.h"

#include "common/threshold.h"
#include "ctl/table.h"

namespace loadd {

Outcome VerdictOf(const RunView& run) {
  bool failed = run.thresholds_verdict == ThresholdsVerdict::kFailed;
  Outcome by_thresholds = failed ? Outcome::kThresholdsFailed : Outcome::kSuccess;
  if (run.end_reason_unknown) return Outcome::kRunError;  // a newer coordinator's
  if (!run.end_reason) {  // an older coordinator: the state alone
    return run.state == "finished" ? by_thresholds : Outcome::kRunError;
  }
  switch (*run.end_reason) {
    case EndReason::kCompleted:
      return by_thresholds;
    case EndReason::kAbortedByThreshold:
      return Outcome::kThresholdsFailed;
    case EndReason::kStopped:
    case EndReason::kNoWorkers:
    case EndReason::kAllWorkersLost:
    case EndReason::kInterrupted:
      return Outcome::kRunError;
  }
  return Outcome::kRunError;
}

std::string FailedThresholds(const RunView& run) {
  std::string line;
  for (const ThresholdView& t : run.thresholds) {
    if (t.passed) continue;
    std::string why = t.measured ? "actual " + FormatThresholdActual(t) : t.message;
    line += (line.empty() ? "" : ", ") + t.key + " " + t.condition + " (" + why + ")";
  }
  return line;
}

std::string FormatThresholdActual(const ThresholdView& threshold) {
  if (!threshold.measured) return "-";
  if (!threshold.measure) return Printf("%g", threshold.actual);  // unit unknown
  return FormatMetricValue(threshold.measure->metric, threshold.actual);
}

std::string FormatPassRate(int64_t passed, int64_t failed) {
  int64_t ran = passed + failed;
  if (ran <= 0) return "-";
  return Printf("%.2f%%", 100.0 * static_cast<double>(passed) / static_cast<double>(ran));
}

}  // namespace loadd
