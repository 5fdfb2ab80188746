// The live line `loadctl start` prints once per poll while a run is going.
#ifndef LOADD_CTL_PROGRESS_H_
#define LOADD_CTL_PROGRESS_H_

#include <cstdint>
#include <string>

#include "ctl/run_view.h"

namespace loadd {

// Turns successive polls of one run into progress lines. The rps shown is
// this interval's: the growth of totals.requests since the previous poll
// divided by the time between the polls (by the caller's clock), or, when
// the poll carries a timeline, its newest entry's rps.
class ProgressTracker {
 public:
  // start_ns: when the run was created, on the clock later polls use.
  explicit ProgressTracker(int64_t start_ns) : prev_ns_(start_ns) {}

  // One line, no line break, e.g.
  // "running  3.0s/5.0s  users 150/200  rps 1902.4  p95 20.8ms  failures 3  workers 2"
  std::string Update(const RunView& run, int64_t now_ns);

 private:
  int64_t prev_ns_;
  int64_t prev_requests_ = 0;
};

}  // namespace loadd

#endif  // LOADD_CTL_PROGRESS_H_
