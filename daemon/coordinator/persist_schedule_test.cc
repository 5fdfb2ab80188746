// The persistence schedule on times given as values: which runs are due.
#include "daemon/coordinator/persist_schedule.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace loadd {
namespace {

constexpr int64_t kMs = kNsPerMs;
constexpr int64_t kT = 1'000'000 * kNsPerSec;  // any clock reading

TEST(PersistScheduleTest, Due) {
  const PersistSchedule schedule{100 * kMs};
  using Times = PersistSchedule::RunTimes;
  struct Case {
    const char* what;
    Times times;
    bool final, changed;
    int64_t since_ns;
    bool due;
  };
  const Case cases[] = {
      {"never written", {false, 0, 0}, false, false, 0, true},
      {"ended, just written", {true, kT, 0}, true, false, 0, true},
      {"ended, however slow its snapshots", {true, kT, 900 * kMs}, true, false, 0, true},
      {"changed, interval not passed", {true, kT, 0}, false, true, 99 * kMs, false},
      {"changed, interval passed", {true, kT, 0}, false, true, 100 * kMs, true},
      {"unchanged, under a second", {true, kT, 0}, false, false, 999 * kMs, false},
      {"unchanged, a second", {true, kT, 0}, false, false, 1000 * kMs, true},
      // A 20 ms snapshot: no closer than 400 ms apart.
      {"slow snapshot, changed, 399 ms",
       {true, kT, 20 * kMs},
       false,
       true,
       399 * kMs,
       false},
      {"slow snapshot, changed, 400 ms",
       {true, kT, 20 * kMs},
       false,
       true,
       400 * kMs,
       true},
      // A 100 ms snapshot: no closer than 2 s apart, even unchanged.
      {"very slow, unchanged, 1.9 s",
       {true, kT, 100 * kMs},
       false,
       false,
       1900 * kMs,
       false},
      {"very slow, unchanged, 2 s",
       {true, kT, 100 * kMs},
       false,
       false,
       2000 * kMs,
       true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(schedule.Due(c.times, c.final, c.changed, kT + c.since_ns), c.due)
        << c.what;
  }
}

TEST(PersistScheduleTest, LongerIntervalWaitsForIt) {
  const PersistSchedule schedule{500 * kMs};
  EXPECT_FALSE(schedule.Due({true, kT, 0}, false, true, kT + 499 * kMs));
  EXPECT_TRUE(schedule.Due({true, kT, 0}, false, true, kT + 500 * kMs));
}

TEST(PersistScheduleTest, WarnsOnceWhenSnapshotsFallBelowOncePerSecond) {
  EXPECT_TRUE(PersistSchedule::NewlySlowerThanOncePerSecond(10 * kMs, 60 * kMs));
  EXPECT_FALSE(PersistSchedule::NewlySlowerThanOncePerSecond(60 * kMs, 70 * kMs));
  EXPECT_FALSE(PersistSchedule::NewlySlowerThanOncePerSecond(10 * kMs, 50 * kMs));
}

}  // namespace
}  // namespace loadd
