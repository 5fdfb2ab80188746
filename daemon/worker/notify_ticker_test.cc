#include "daemon/worker/notify_ticker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.h"

namespace loadd {
namespace {

class FakeNotifier final : public Notifier {
 public:
  explicit FakeNotifier(int64_t watchdog_ns) : watchdog_ns_(watchdog_ns) {}
  void Ready() override { events.push_back("READY"); }
  void SetStatus(const std::string& status) override {
    events.push_back("STATUS " + status);
  }
  void Watchdog() override { events.push_back("WATCHDOG"); }
  void Stopping() override { events.push_back("STOPPING"); }
  int64_t watchdog_interval_ns() const override { return watchdog_ns_; }
  std::vector<std::string> events;

 private:
  int64_t watchdog_ns_;
};

TEST(NotifyTickerTest, TicksAtHalfTheWatchdogTimeoutAtMostEverySecond) {
  struct Case {
    int64_t watchdog_interval_ns;  // half of WATCHDOG_USEC; 0: no watchdog
    int64_t want_tick_ns;
    std::vector<std::string> want_events;  // of one tick
  };
  const Case cases[] = {
      {0, NotifyTicker::kMaxTickNs, {"STATUS idle"}},
      {200 * kNsPerMs, 200 * kNsPerMs, {"WATCHDOG", "STATUS idle"}},
      {5 * kNsPerSec, NotifyTicker::kMaxTickNs, {"WATCHDOG", "STATUS idle"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.watchdog_interval_ns);
    EventLoop loop;
    ASSERT_TRUE(loop.Init().ok());
    FakeNotifier notifier(c.watchdog_interval_ns);
    NotifyTicker ticker(&loop, &notifier, [] { return std::string("idle"); });
    EXPECT_EQ(ticker.tick_ns(), c.want_tick_ns);
    int64_t before = MonotonicNowNs();
    ticker.OnTimer();
    int64_t after = MonotonicNowNs();
    EXPECT_EQ(notifier.events, c.want_events);
    EXPECT_GE(ticker.next_tick_ns(), before + c.want_tick_ns);
    EXPECT_LE(ticker.next_tick_ns(), after + c.want_tick_ns);
  }
}

// The pings come from the loop: while it runs they keep coming, and the
// status line follows what the worker reports.
TEST(NotifyTickerTest, PingsFromTheRunningLoop) {
  EventLoop loop;
  ASSERT_TRUE(loop.Init().ok());
  FakeNotifier notifier(5 * kNsPerMs);
  int calls = 0;
  NotifyTicker ticker(&loop, &notifier, [&] {
    if (++calls == 4) loop.Stop();
    return calls < 3 ? std::string("idle") : std::string("run r1: 10 users");
  });
  ticker.Start(MonotonicNowNs());
  loop.Run();  // four ticks, 5 ms apart
  std::vector<std::string> want = {"WATCHDOG", "STATUS idle",
                                   "WATCHDOG", "STATUS idle",
                                   "WATCHDOG", "STATUS run r1: 10 users",
                                   "WATCHDOG", "STATUS run r1: 10 users"};
  EXPECT_EQ(notifier.events, want);
}

}  // namespace
}  // namespace loadd
