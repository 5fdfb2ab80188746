#include "daemon/worker/coordinator_watch.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(CoordinatorWatchTest, LimitIsTheShorterOfGraceAndTheCoordinatorsTimeout) {
  struct Case {
    int64_t grace_ms, timeout_ms, want_ms;
  };
  const Case kCases[] = {
      {10'000, 0, 10'000},     // no welcome yet / older coordinator: the grace
      {10'000, 3'000, 3'000},  // defaults: the coordinator's timeout
      {2'000, 3'000, 2'000},   // an operator's shorter grace wins
      {1'000, 1'000, 1'000},
  };
  for (const Case& c : kCases) {
    CoordinatorWatch watch(c.grace_ms);
    if (c.timeout_ms > 0) watch.OnWelcome(1000, c.timeout_ms);
    EXPECT_EQ(watch.limit_ms(), c.want_ms) << c.grace_ms << " " << c.timeout_ms;
  }
}

TEST(CoordinatorWatchTest, HeartbeatIntervalComesFromTheWelcomeAndIsBounded) {
  struct Case {
    int64_t welcome_ms, want_ms;
  };
  const Case kCases[] = {{333, 333}, {1000, 1000}, {5000, 1000}, {1, 10}};
  for (const Case& c : kCases) {
    CoordinatorWatch watch(10'000);
    watch.OnWelcome(c.welcome_ms, 3000);
    EXPECT_EQ(watch.heartbeat_interval_ns(), c.want_ms * kMs) << c.welcome_ms;
  }
  EXPECT_EQ(CoordinatorWatch(10'000).heartbeat_interval_ns(), 1000 * kMs);
}

TEST(CoordinatorWatchTest, TimerFindsTheSilenceOncePerSilence) {
  CoordinatorWatch watch(10'000);
  watch.OnWelcome(333, 1000);
  watch.Reset(0);
  EXPECT_FALSE(watch.Check(1000 * kMs));  // exactly at the limit: not yet
  EXPECT_TRUE(watch.Check(1001 * kMs));
  EXPECT_TRUE(watch.adrift());
  EXPECT_FALSE(watch.Check(1500 * kMs));  // once
  EXPECT_FALSE(watch.Check(9000 * kMs));
  // Heard again: the timer's catch is not reported a second time.
  EXPECT_FALSE(watch.Heard(9100 * kMs));
  EXPECT_FALSE(watch.adrift());
  EXPECT_FALSE(watch.Check(9900 * kMs));
  EXPECT_TRUE(watch.Check(10'200 * kMs));  // a new silence
}

// A frozen worker (SIGSTOP) wakes with pings queued: if it reads them before
// its timer runs, the silence must still be seen.
TEST(CoordinatorWatchTest, MessageAfterALongSilenceReportsIt) {
  CoordinatorWatch watch(10'000);
  watch.OnWelcome(333, 1000);
  watch.Reset(0);
  EXPECT_FALSE(watch.Heard(400 * kMs));
  EXPECT_FALSE(watch.Heard(1300 * kMs));  // 900 ms: within the limit
  EXPECT_TRUE(watch.Heard(4300 * kMs));   // 3 s frozen
  EXPECT_FALSE(watch.adrift());
  EXPECT_FALSE(watch.Heard(4400 * kMs));
  EXPECT_EQ(watch.silence_ms(4900 * kMs), 500);
}

}  // namespace
}  // namespace loadd
