#include "daemon/worker/event_loop.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include "common/clock.h"

namespace loadd {
namespace {

struct Call final : TimerHandler {
  explicit Call(std::function<void()> f) : fn(std::move(f)) {}
  void OnTimer() override { fn(); }
  std::function<void()> fn;
};

// A storm: many ordinary timers due at once, all before an urgent one (the
// heartbeat) and a later ordinary one. Deadlines are in the past, so no
// test waits.
struct Storm {
  explicit Storm(int n) {
    EXPECT_TRUE(loop.Init().ok());
    int64_t now = MonotonicNowNs();
    for (int i = 0; i < n; ++i) {
      calls.push_back(std::make_unique<Call>([this] { ++ran; }));
      timers.push_back(std::make_unique<Timer>(calls.back().get()));
      loop.Arm(timers.back().get(), now - kNsPerSec);
    }
  }
  EventLoop loop;
  std::vector<std::unique_ptr<Call>> calls;
  std::vector<std::unique_ptr<Timer>> timers;
  int ran = 0;
};

TEST(EventLoopTest, AnUrgentTimerIsServedBetweenBatchesOfAStorm) {
  const int kStorm = 20 * EventLoop::kMaxTimersPerBatch;
  Storm storm(kStorm);
  // Like the heartbeat: re-armed each time it runs, due at once again.
  std::vector<int> ran_at_urgent;
  Timer* urgent_ptr = nullptr;
  Call urgent_call([&] {
    ran_at_urgent.push_back(storm.ran);
    if (storm.ran < kStorm) storm.loop.Arm(urgent_ptr, MonotonicNowNs() + 1);
  });
  Timer urgent(&urgent_call, nullptr, /*urgent=*/true);
  urgent_ptr = &urgent;
  // Due after every timer of the storm: deadline order alone would run it last.
  storm.loop.Arm(&urgent, MonotonicNowNs() - kNsPerSec / 2);
  Call last_call([&] { storm.loop.Stop(); });
  Timer last(&last_call);
  storm.loop.Arm(&last, MonotonicNowNs() - kNsPerSec / 4);
  storm.loop.Run();
  EXPECT_EQ(storm.ran, kStorm);
  ASSERT_FALSE(ran_at_urgent.empty()) << "the urgent timer never ran";
  EXPECT_EQ(ran_at_urgent.front(), 0) << "urgent timers go first";
  for (size_t i = 1; i < ran_at_urgent.size(); ++i) {
    EXPECT_LE(ran_at_urgent[i] - ran_at_urgent[i - 1], EventLoop::kMaxTimersPerBatch)
        << "between urgent runs " << i - 1 << " and " << i;
  }
  EXPECT_EQ(ran_at_urgent.back(), kStorm);
}

TEST(EventLoopTest, OrdinaryTimersRunInDeadlineOrderAfterUrgentOnes) {
  const int kStorm = 3 * EventLoop::kMaxTimersPerBatch + 7;
  Storm storm(0);
  std::vector<int> order;
  int64_t now = MonotonicNowNs();
  for (int i = 0; i < kStorm; ++i) {
    storm.calls.push_back(std::make_unique<Call>([&order, i] { order.push_back(i); }));
    storm.timers.push_back(std::make_unique<Timer>(storm.calls.back().get()));
    storm.loop.Arm(storm.timers.back().get(), now - kNsPerSec + i);
  }
  // An urgent timer goes first, even before ordinary ones due earlier.
  int ran_in_first_batch = -1;
  Call probe_call([&] { ran_in_first_batch = static_cast<int>(order.size()); });
  Timer probe(&probe_call, nullptr, /*urgent=*/true);
  storm.loop.Arm(&probe, now);
  Call last_call([&] { storm.loop.Stop(); });
  Timer last(&last_call);
  storm.loop.Arm(&last, now);
  storm.loop.Run();
  ASSERT_EQ(static_cast<int>(order.size()), kStorm);
  for (int i = 0; i < kStorm; ++i) ASSERT_EQ(order[i], i) << "out of deadline order";
  EXPECT_EQ(ran_in_first_batch, 0) << "urgent timers run before the batch";
}

}  // namespace
}  // namespace loadd
