#include "ctl/progress.h"

#include <algorithm>
#include <cstdio>

#include "common/clock.h"
#include "common/units.h"
#include "ctl/report.h"

namespace loadd {
namespace {

std::string WaitingLine(const RunView& run, int64_t live_workers) {
  return "waiting for workers (have " +
         (live_workers < 0 ? std::string("?") : std::to_string(live_workers)) +
         ", want " + std::to_string(run.expect_workers) + ")";
}

// Waiting in the coordinator's run queue for its workers.
std::string QueuedLine(const RunView& run) {
  return "queued: position " + std::to_string(run.queue_position) +
         " in the run queue (its workers are busy)";
}

// "users 150/200" (closed model) or "in flight 37/1000" (open model).
std::string LoadGauge(const RunView& run) {
  if (run.open_model) {
    return "in flight " + std::to_string(run.users) + "/" +
           std::to_string(run.max_in_flight);
  }
  return "users " + std::to_string(run.users) + "/" + std::to_string(run.target_users);
}

}  // namespace

std::string ProgressTracker::Update(const RunView& run, int64_t now_ns,
                                    int64_t live_workers) {
  if (run.has_timeline_entry) {
    rps_ = run.last_timeline_rps;
  } else if (now_ns - prev_ns_ < kMinRateIntervalNs && run.requests >= prev_requests_) {
    // A poll right after the last (Ctrl-C wakes the wait): too short an
    // interval to measure, as totals grow in steps; keep the last figure
    // and measure the next interval from the older poll.
    if (run.state == "waiting") return WaitingLine(run, live_workers);
    if (run.state == "queued") return QueuedLine(run);
    return RunningLine(run, rps_);
  } else if (now_ns > prev_ns_ && run.requests >= prev_requests_) {
    rps_ = static_cast<double>(run.requests - prev_requests_) * kNsPerSec /
           static_cast<double>(now_ns - prev_ns_);
  } else {
    rps_ = 0;
  }
  prev_ns_ = now_ns;
  prev_requests_ = run.requests;
  if (run.state == "waiting") return WaitingLine(run, live_workers);
  if (run.state == "queued") return QueuedLine(run);
  return RunningLine(run, rps_);
}

std::string ProgressTracker::RunningLine(const RunView& run, double rps) {
  char rps_text[32];
  std::snprintf(rps_text, sizeof rps_text, "%.1f", rps);
  std::string line = run.state + "  " + FormatSeconds(run.elapsed_s) + "/" +
                     FormatSeconds(run.duration_s) + "  " + LoadGauge(run) + "  rps " +
                     rps_text + "  p95 " + FormatMicros(run.aggregated.latency.p95_us) +
                     "  failures " + std::to_string(run.failures);
  if (run.dropped > 0) line += "  dropped " + std::to_string(run.dropped);
  return line + "  workers " + std::to_string(run.workers);
}

std::vector<std::string> ProgressTracker::NewWarnings(const RunView& run) {
  std::vector<std::string> fresh;
  for (size_t i = warnings_shown_; i < run.warnings.size(); ++i) {
    fresh.push_back(run.warnings[i]);
  }
  warnings_shown_ = std::max(warnings_shown_, run.warnings.size());
  return fresh;
}

}  // namespace loadd
