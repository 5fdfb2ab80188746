#include "ctl/verdict.h"

#include <cstdio>
#include <string_view>

#include "common/units.h"

namespace loadd {
namespace {

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// The metric is the key's last part: "http.error_rate", "step:a.b.rps". Rate
// and rps metrics have no dot of their own, so the last '.' finds them.
std::string_view MetricOf(std::string_view key) {
  size_t dot = key.rfind('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

}  // namespace

bool AbortedByThreshold(const RunView& run) {
  std::string_view message = run.message;
  constexpr std::string_view kStart = "threshold ", kEnd = "; run aborted";
  return message.size() >= kStart.size() + kEnd.size() && message.starts_with(kStart) &&
         message.ends_with(kEnd);
}

Outcome VerdictOf(const RunView& run) {
  bool failed = run.thresholds_verdict == ThresholdsVerdict::kFailed;
  if (run.state == "finished")
    return failed ? Outcome::kThresholdsFailed : Outcome::kSuccess;
  if (run.state == "stopped" && failed && AbortedByThreshold(run)) {
    return Outcome::kThresholdsFailed;
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
  std::string_view metric = MetricOf(threshold.key);
  if (metric == "error_rate" || metric == "pass_rate") {
    return Printf("%.2f%%", threshold.actual * 100);
  }
  if (metric == "rps") return Printf("%.1f/s", threshold.actual);
  return FormatMicros(threshold.actual);
}

std::string FormatPassRate(int64_t passed, int64_t failed) {
  int64_t ran = passed + failed;
  if (ran <= 0) return "-";
  return Printf("%.2f%%", 100.0 * static_cast<double>(passed) / static_cast<double>(ran));
}

}  // namespace loadd
