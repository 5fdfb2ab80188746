#include "daemon/coordinator/bus_admission.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace loadd {
namespace {

constexpr int64_t kT0 = 1'000 * kNsPerSec;

BusAdmissionOptions Small() {
  BusAdmissionOptions o;
  o.handshake_timeout_ms = 2000;
  o.max_pending = 6;
  o.max_pending_per_host = 4;
  o.max_closing = 8;
  o.failure_penalty_ms = 30'000;
  return o;
}

// Admits `n` pipes from `host` numbered from `first`, 1 ms apart; all must
// get in.
void Fill(HandshakeAdmission* a, const std::string& host, uint32_t first, int n,
          int64_t* now) {
  for (int i = 0; i < n; ++i) {
    *now += kNsPerMs;
    ASSERT_TRUE(a->Admit(first + i, host, *now).admitted) << host << " " << first + i;
  }
}

TEST(BusAdmissionTest, SilentHandshakeExpiresAtItsDeadlineAndPenalizesItsHost) {
  HandshakeAdmission a(Small());
  ASSERT_TRUE(a.Admit(1, "10.0.0.1", kT0).admitted);
  ASSERT_TRUE(a.Admit(2, "10.0.0.2", kT0 + kNsPerSec).admitted);
  EXPECT_TRUE(a.Expire(kT0 + 2 * kNsPerSec - 1).empty());
  EXPECT_EQ(a.Expire(kT0 + 2 * kNsPerSec), std::vector<uint32_t>{1});
  EXPECT_EQ(a.pending(), 1u);
  EXPECT_EQ(a.closing(), 1u);
  EXPECT_TRUE(a.Penalized("10.0.0.1", kT0 + 2 * kNsPerSec));
  EXPECT_FALSE(a.Penalized("10.0.0.2", kT0 + 2 * kNsPerSec));
  a.Removed(1);
  EXPECT_EQ(a.closing(), 0u);
  // An authenticated pipe never expires.
  a.Authenticated(2);
  EXPECT_TRUE(a.Expire(kT0 + 60 * kNsPerSec).empty());
  EXPECT_EQ(a.pending(), 0u);
  EXPECT_EQ(a.closing(), 0u);
}

// The flood on one host: every slot of the host is held by peers
// that never answer. A new connection from the same host (the restarted
// worker) is admitted at once, in place of the longest-waiting one, and has
// until max_pending_per_host newer arrivals to answer.
TEST(BusAdmissionTest, FullHostEvictsItsOldestInsteadOfRefusingTheNewcomer) {
  HandshakeAdmission a(Small());
  int64_t now = kT0;
  Fill(&a, "127.0.0.1", 1, 4, &now);
  HandshakeAdmission::Decision d = a.Admit(100, "127.0.0.1", now + kNsPerMs);
  ASSERT_TRUE(d.admitted) << d.why;
  EXPECT_EQ(d.evicted, 1u);
  EXPECT_NE(d.why.find("127.0.0.1 has 4 connections in handshake"), std::string::npos)
      << d.why;
  EXPECT_EQ(a.pending(), 4u);
  EXPECT_EQ(a.closing(), 1u);
  // Three more flood arrivals evict 2, 3, 4: the worker's pipe survives.
  for (uint32_t pipe = 5; pipe < 8; ++pipe) {
    d = a.Admit(pipe, "127.0.0.1", now + 2 * kNsPerMs);
    ASSERT_TRUE(d.admitted);
    EXPECT_EQ(d.evicted, pipe - 3);
  }
  a.Authenticated(100);  // it answered
  EXPECT_EQ(a.pending(), 3u);
  // The host's cap holds whatever arrives.
  for (uint32_t pipe = 200; pipe < 300; ++pipe) a.Admit(pipe, "127.0.0.1", now);
  EXPECT_LE(a.pending(), 4u);
}

// The per-host cap keeps one host from holding every slot of the fleet.
TEST(BusAdmissionTest, PerHostCapLeavesRoomForOtherHosts) {
  HandshakeAdmission a(Small());
  int64_t now = kT0;
  Fill(&a, "10.0.0.66", 1, 4, &now);
  for (uint32_t pipe = 10; pipe < 20; ++pipe) {
    HandshakeAdmission::Decision d = a.Admit(pipe, "10.0.0.66", now);
    ASSERT_TRUE(d.admitted);
    EXPECT_NE(d.evicted, 0u);
    a.Removed(d.evicted);
  }
  EXPECT_EQ(a.pending(), 4u);
  HandshakeAdmission::Decision w = a.Admit(50, "10.0.0.7", now);
  EXPECT_TRUE(w.admitted);
  EXPECT_EQ(w.evicted, 0u) << "room was left for another host";
}

TEST(BusAdmissionTest, FullFleetEvictsFromTheHostHoldingTheMost) {
  HandshakeAdmission a(Small());
  int64_t now = kT0;
  Fill(&a, "10.0.0.2", 1, 1, &now);  // the oldest of all
  Fill(&a, "10.0.0.1", 2, 3, &now);
  Fill(&a, "10.0.0.3", 5, 2, &now);
  ASSERT_EQ(a.pending(), 6u);
  HandshakeAdmission::Decision d = a.Admit(9, "10.0.0.4", now);
  ASSERT_TRUE(d.admitted);
  EXPECT_EQ(d.evicted, 2u) << "the oldest of 10.0.0.1, which holds 3: " << d.why;
  // Now 10.0.0.1 and 10.0.0.3 hold 2 each: the older one goes.
  d = a.Admit(10, "10.0.0.4", now);
  EXPECT_EQ(d.evicted, 3u) << d.why;
}

// Backoff for hosts that failed: while penalized, a host's handshakes make
// way before any other host's, however few it holds; it is never refused
// outright (a worker may share its address).
TEST(BusAdmissionTest, HostThatFailedIsEvictedFirstUntilItsPenaltyEnds) {
  HandshakeAdmission a(Small());
  int64_t now = kT0;
  Fill(&a, "10.0.0.9", 1, 1, &now);
  a.Failed(1, now);  // wrong key
  EXPECT_TRUE(a.Penalized("10.0.0.9", now));
  a.Removed(1);
  Fill(&a, "10.0.0.9", 2, 1, &now);  // it tries again: admitted
  Fill(&a, "10.0.0.1", 3, 3, &now);
  Fill(&a, "10.0.0.2", 6, 2, &now);
  HandshakeAdmission::Decision d = a.Admit(10, "10.0.0.3", now);
  ASSERT_TRUE(d.admitted);
  EXPECT_EQ(d.evicted, 2u) << "the failed host's pipe goes first: " << d.why;

  // Pipe 2's eviction renewed the penalty; 30 s after it, it is over and
  // the host holding the most makes way again.
  now += 30 * kNsPerSec;
  EXPECT_FALSE(a.Penalized("10.0.0.9", now));
  a.Removed(10);
  Fill(&a, "10.0.0.9", 11, 1, &now);
  d = a.Admit(12, "10.0.0.5", now);
  EXPECT_EQ(d.evicted, 3u) << "10.0.0.1 holds 3: " << d.why;
}

TEST(BusAdmissionTest, ClosingIsBoundedNewcomersAreRefusedWhileItIsFull) {
  BusAdmissionOptions o = Small();
  o.max_closing = 2;
  HandshakeAdmission a(o);
  int64_t now = kT0;
  Fill(&a, "127.0.0.1", 1, 4, &now);
  EXPECT_EQ(a.Admit(5, "127.0.0.1", now).evicted, 1u);
  EXPECT_EQ(a.Admit(6, "127.0.0.1", now).evicted, 2u);
  HandshakeAdmission::Decision d = a.Admit(7, "127.0.0.1", now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.evicted, 0u);
  EXPECT_NE(d.why.find("2 connections given up on are still being closed"),
            std::string::npos)
      << d.why;
  EXPECT_EQ(a.pending(), 4u);
  // Another host still has room without evicting anyone.
  EXPECT_TRUE(a.Admit(8, "10.0.0.1", now).admitted);
  a.Removed(1);  // nng reported one gone
  EXPECT_TRUE(a.Admit(9, "127.0.0.1", now).admitted);
  // A session closed for a bad frame counts against the bound too.
  a.Closing(1000);
  EXPECT_EQ(a.closing(), 3u);
  EXPECT_FALSE(a.Admit(10, "127.0.0.1", now).admitted);
}

TEST(BusAdmissionTest, RememberedFailuresAreBounded) {
  BusAdmissionOptions o = Small();
  o.max_hosts_remembered = 2;
  HandshakeAdmission a(o);
  int64_t now = kT0;
  for (uint32_t pipe = 1; pipe <= 3; ++pipe) {
    now += kNsPerMs;
    ASSERT_TRUE(a.Admit(pipe, "10.0.0." + std::to_string(pipe), now).admitted);
    a.Failed(pipe, now);
  }
  EXPECT_FALSE(a.Penalized("10.0.0.1", now)) << "the oldest was forgotten";
  EXPECT_TRUE(a.Penalized("10.0.0.2", now));
  EXPECT_TRUE(a.Penalized("10.0.0.3", now));
}

TEST(BusAdmissionTest, ZeroLimitsStillAdmitOne) {
  BusAdmissionOptions o;
  o.max_pending = 0;
  o.max_pending_per_host = 0;
  HandshakeAdmission a(o);
  EXPECT_TRUE(a.Admit(1, "h", kT0).admitted);
  HandshakeAdmission::Decision d = a.Admit(2, "h", kT0);
  EXPECT_TRUE(d.admitted);
  EXPECT_EQ(d.evicted, 1u);
  EXPECT_FALSE(a.Admit(2, "h", kT0).admitted) << "a pipe id is admitted once";
}

TEST(BusAdmissionTest, AddressHostDropsThePort) {
  const std::pair<const char*, const char*> cases[] = {
      {"127.0.0.1:40000", "127.0.0.1"},
      {"[::1]:5557", "::1"},
      {"[fe80::1%eth0]:1", "fe80::1%eth0"},
      {"local", "local"},
      {"?", "?"},
      {"::1", "::1"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(AddressHost(in), want) << in;
}

}  // namespace
}  // namespace loadd
