#include "daemon/coordinator/fleet_registry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/units.h"

namespace loadd {
namespace {

constexpr int64_t kT0 = 1'000'000'000'000;  // ns; any monotonic start

HelloMsg Hello(const std::string& host, int64_t instance,
               const std::string& run_id = "") {
  return HelloMsg{host, instance, instance, 2, 100, "t", run_id};
}

class FleetRegistryTest : public ::testing::Test {
 protected:
  WorkerEntry* Join(uint32_t pipe, const std::string& host, int64_t instance,
                    int64_t now_ns = kT0) {
    WorkerEntry* w = fleet_.OnConnect(pipe, now_ns);
    fleet_.Register(w, Hello(host, instance));
    return w;
  }

  FleetRegistry fleet_{FleetConfig{/*heartbeat_timeout_ms=*/3000,
                                   /*lost_worker_keep_ms=*/60'000}};
};

TEST_F(FleetRegistryTest, ConnectedPipeIsNoWorkerUntilItsHello) {
  WorkerEntry* w = fleet_.OnConnect(7, kT0);
  EXPECT_EQ(w->pipe, 7u);
  EXPECT_FALSE(w->registered);
  EXPECT_EQ(fleet_.CountLive(), 0u);
  EXPECT_TRUE(fleet_.Idle().empty());
  EXPECT_EQ(fleet_.Register(w, Hello("h", 2)), "h/2");
  EXPECT_TRUE(w->registered);
  EXPECT_EQ(fleet_.CountLive(), 1u);
  EXPECT_EQ(fleet_.Find(7), w);
  EXPECT_EQ(fleet_.Find(8), nullptr);
}

TEST_F(FleetRegistryTest, HelloOfARunInProgressMakesTheWorkerBusy) {
  WorkerEntry* w = fleet_.OnConnect(1, kT0);
  fleet_.Register(w, Hello("h", 0, "r1"));
  EXPECT_EQ(w->run_id, "r1");
  EXPECT_EQ(fleet_.CountLive(), 1u);
  EXPECT_EQ(fleet_.CountIdle(), 0u);
  fleet_.ReleaseRun("r2");
  EXPECT_EQ(fleet_.CountIdle(), 0u);
  fleet_.ReleaseRun("r1");
  EXPECT_EQ(fleet_.CountIdle(), 1u);
}

TEST_F(FleetRegistryTest, DuplicateLiveIdentityIsKeptApart) {
  Join(1, "h", 0);
  WorkerEntry* twin = fleet_.OnConnect(2, kT0);
  EXPECT_EQ(fleet_.Register(twin, Hello("h", 0)), "h/0#2");
  EXPECT_EQ(fleet_.CountLive(), 2u);
}

TEST_F(FleetRegistryTest, SameWorkerOnANewPipeReplacesItsLostEntry) {
  WorkerEntry* old = Join(1, "h", 0);
  ASSERT_TRUE(fleet_.MarkLost(old, kT0 + kNsPerSec));
  WorkerEntry* again = fleet_.OnConnect(2, kT0 + 2 * kNsPerSec);
  EXPECT_EQ(fleet_.Register(again, Hello("h", 0)), "h/0");
  EXPECT_EQ(fleet_.Find(1), nullptr);
  EXPECT_EQ(fleet_.entries().size(), 1u);
  EXPECT_EQ(fleet_.CountLive(), 1u);
}

TEST_F(FleetRegistryTest, SilenceBeyondTheTimeoutIsFound) {
  WorkerEntry* a = Join(1, "h", 0);
  Join(2, "h", 1);
  fleet_.OnConnect(3, kT0);  // never said hello: not judged
  int64_t now = kT0 + 3 * kNsPerSec;
  EXPECT_TRUE(fleet_.Silent(now, now).empty());  // exactly the timeout: not yet
  a->last_seen_ns = now;                         // a heartbeat from 1
  now += kNsPerMs;
  EXPECT_EQ(fleet_.Silent(now, now), std::vector<uint32_t>{2});
  ASSERT_TRUE(fleet_.MarkLost(fleet_.Find(2), now));
  EXPECT_FALSE(fleet_.MarkLost(fleet_.Find(2), now));  // once only
  EXPECT_TRUE(fleet_.Silent(now, now).empty());        // lost ones are not silent again
  EXPECT_EQ(fleet_.CountLive(), 1u);
}

// A coordinator behind on its queue judges silence up to what the bus has
// delivered, but never more than kMaxJudgeLag timeouts late.
TEST_F(FleetRegistryTest, SilenceIsJudgedUpToWhatTheBusDelivered) {
  Join(1, "h", 0);
  int64_t now = kT0 + 5 * kNsPerSec;
  EXPECT_TRUE(fleet_.Silent(now, /*delivered_up_to_ns=*/kT0 + kNsPerSec).empty());
  now = kT0 + 9 * kNsPerSec;  // 9 s = 3 timeouts: still judged at the lag bound
  EXPECT_TRUE(fleet_.Silent(now, kT0 + kNsPerSec).empty());
  now += 3 * kNsPerSec + kNsPerMs;  // judged up to now - 9 s = kT0 + 3 s + 1 ms
  EXPECT_EQ(fleet_.Silent(now, kT0 + kNsPerSec), std::vector<uint32_t>{1});
}

TEST_F(FleetRegistryTest, ReviveTellsWhetherTheWorkerMustStopItsRun) {
  WorkerEntry* idle = Join(1, "h", 0);
  WorkerEntry* busy = Join(2, "h", 1);
  busy->run_id = "r1";
  fleet_.MarkLost(idle, kT0);
  fleet_.MarkLost(busy, kT0);
  EXPECT_EQ(fleet_.CountLive(), 0u);
  EXPECT_FALSE(fleet_.Revive(idle));
  EXPECT_TRUE(fleet_.Revive(busy));
  EXPECT_EQ(fleet_.CountLive(), 2u);
  EXPECT_EQ(fleet_.CountIdle(), 1u);
}

TEST_F(FleetRegistryTest, LostWorkersAreKeptThenForgotten) {
  WorkerEntry* w = Join(1, "h", 0);
  Join(2, "h", 1);
  fleet_.MarkLost(w, kT0);
  fleet_.ForgetLongLost(kT0 + 60 * kNsPerSec);  // exactly the keep: still listed
  ASSERT_NE(fleet_.Find(1), nullptr);
  EXPECT_TRUE(fleet_.Find(1)->lost);
  fleet_.ForgetLongLost(kT0 + 60 * kNsPerSec + 1);
  EXPECT_EQ(fleet_.Find(1), nullptr);
  EXPECT_NE(fleet_.Find(2), nullptr);  // live ones stay, however old
  // Its pipe stayed open: a later hello makes a new entry.
  WorkerEntry* back = fleet_.FindOrAdd(1, kT0 + 61 * kNsPerSec);
  EXPECT_FALSE(back->registered);
  EXPECT_EQ(back->connected_ns, kT0 + 61 * kNsPerSec);
  EXPECT_EQ(fleet_.FindOrAdd(1, kT0 + 62 * kNsPerSec), back);  // not reset
  EXPECT_EQ(back->connected_ns, kT0 + 61 * kNsPerSec);
}

TEST_F(FleetRegistryTest, IdleAreRegisteredLiveAndFreeInPipeOrder) {
  Join(5, "h", 0);
  Join(2, "h", 1)->run_id = "r1";  // busy
  fleet_.MarkLost(Join(9, "h", 2), kT0);
  Join(3, "h", 3);
  fleet_.OnConnect(1, kT0);  // no hello
  std::vector<uint32_t> idle;
  for (WorkerEntry* w : fleet_.Idle()) idle.push_back(w->pipe);
  EXPECT_EQ(idle, (std::vector<uint32_t>{3, 5}));
  EXPECT_EQ(fleet_.CountIdle(), 2u);
  EXPECT_EQ(fleet_.LivePipes(), (std::vector<uint32_t>{2, 3, 5}));
  fleet_.Forget(5);
  EXPECT_EQ(fleet_.CountIdle(), 1u);
}

TEST_F(FleetRegistryTest, PingsAreDueEveryHeartbeatInterval) {
  struct Case {
    int64_t timeout_ms, want_interval_ms;
  };
  for (const Case& c :
       {Case{3000, 1000}, Case{1000, 333}, Case{200, 100}, Case{60'000, 1000}}) {
    FleetRegistry fleet(FleetConfig{c.timeout_ms, 60'000});
    EXPECT_EQ(fleet.HeartbeatIntervalMs(), c.want_interval_ms) << c.timeout_ms;
    int64_t interval_ns = c.want_interval_ms * kNsPerMs;
    EXPECT_TRUE(fleet.PingDue(kT0));
    EXPECT_FALSE(fleet.PingDue(kT0 + interval_ns - 1));
    EXPECT_TRUE(fleet.PingDue(kT0 + interval_ns));
    EXPECT_FALSE(fleet.PingDue(kT0 + interval_ns));
  }
}

}  // namespace
}  // namespace loadd
