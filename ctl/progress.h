// The live line `loadctl start` prints once per poll while a run is going.
#ifndef LOADD_CTL_PROGRESS_H_
#define LOADD_CTL_PROGRESS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ctl/run_view.h"

namespace loadd {

// Turns successive polls of one run into progress lines. The rps shown is
// this interval's: the growth of totals.requests since the previous poll
// divided by the time between the polls (by the caller's clock), or, when
// the poll carries a timeline, its newest entry's rps.
class ProgressTracker {
 public:
  // Polls closer together than this (a Ctrl-C cuts the wait short) keep the
  // previous rps: totals grow in steps, so a short interval misleads.
  static constexpr int64_t kMinRateIntervalNs = 500'000'000;

  // start_ns: when the run was created, on the clock later polls use.
  explicit ProgressTracker(int64_t start_ns) : prev_ns_(start_ns) {}

  // One line, no line break. While the run is "waiting":
  //   "waiting for workers (have 1, want 3)"
  // where "have" is live_workers (GET /healthz `workers`; negative: unknown,
  // shown as "?") and "want" the plan's expect_workers. Otherwise:
  //   "running  3.0s/5.0s  users 150/200  rps 1902.4  p95 20.8ms  failures 3  workers 2"
  // with "in flight 37/1000" (of max_in_flight) instead of users for the open
  // model, and "  dropped N" after the failures when any were dropped.
  std::string Update(const RunView& run, int64_t now_ns, int64_t live_workers = -1);

  // The rps the last Update showed (0 before the first).
  double rps() const { return rps_; }

  // The messages of the run's warnings not returned before, oldest first.
  std::vector<std::string> NewWarnings(const RunView& run);

 private:
  static std::string RunningLine(const RunView& run, double rps);

  int64_t prev_ns_;
  int64_t prev_requests_ = 0;
  size_t warnings_shown_ = 0;
  double rps_ = 0;
};

}  // namespace loadd

#endif  // LOADD_CTL_PROGRESS_H_
