#include "ctl/waiter.h"

#include <gtest/gtest.h>

#include <csignal>

#include "common/clock.h"

namespace loadd {
namespace {

// Regression: after the first Ctrl-C every later sleep returned at once, so
// `loadctl start` polled the coordinator in a busy loop while the run stopped.
TEST(SignalWaiterTest, KeepsSleepingAfterTheFirstInterrupt) {
  SignalWaiter waiter;
  waiter.Arm();
  ASSERT_FALSE(waiter.Interrupted());
  raise(SIGINT);  // the first one only sets the flag
  EXPECT_TRUE(waiter.Interrupted());
  int64_t start_ns = MonotonicNowNs();
  waiter.SleepNs(50 * kNsPerMs);
  EXPECT_GE(MonotonicNowNs() - start_ns, 50 * kNsPerMs);
  EXPECT_TRUE(waiter.Interrupted());  // and it stays set
}

}  // namespace
}  // namespace loadd
