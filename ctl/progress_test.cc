#include "ctl/progress.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace loadd {
namespace {

TEST(ProgressTrackerTest, ShortIntervalKeepsTheLastRate) {
  struct Poll {
    int64_t at_ms;  // since the tracker started
    int64_t requests;
    double want_rps;
  };
  // Totals grow in steps: a poll 10 ms after the last (a Ctrl-C woke the
  // wait) must not divide a step by 10 ms.
  const Poll kPolls[] = {
      {1000, 1000, 1000},  // 1000 requests in 1 s
      {1010, 1900, 1000},  // too soon: the last figure
      {2000, 2000, 1000},  // measured from the poll at 1000 ms
      {2300, 2500, 1000},  // too soon again
      {3000, 3400, 1400},  // from the poll at 2000 ms: (3400 - 2000) / 1 s
  };
  RunView run;
  run.state = "running";
  ProgressTracker tracker(0);
  for (const Poll& p : kPolls) {
    run.requests = p.requests;
    std::string line = tracker.Update(run, p.at_ms * kNsPerMs);
    EXPECT_DOUBLE_EQ(tracker.rps(), p.want_rps) << p.at_ms << ": " << line;
  }
}

}  // namespace
}  // namespace loadd
