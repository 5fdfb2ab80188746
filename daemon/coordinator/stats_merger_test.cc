// StatsMerger on run times given as values (no clock, no sleeps): where a
// message is filed, when a second closes, what a closed second holds, and
// that a closed second never changes.
#include "daemon/coordinator/stats_merger.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace loadd {
namespace {

constexpr int64_t kSec = kNsPerSec;
constexpr int64_t kMs = kNsPerMs;

EndpointStats Endpoint(const std::string& name, int64_t requests, int64_t failures,
                       int64_t latency_us) {
  EndpointStats e;
  e.name = name;
  e.requests = requests;
  e.failures = failures;
  e.bytes_in = requests * 10;
  e.latency_us.RecordN(latency_us, requests);
  return e;
}

StatsMsg Stats(std::vector<EndpointStats> endpoints, int64_t users = 1,
               bool final = false) {
  StatsMsg s;
  s.endpoints = std::move(endpoints);
  s.users = users;
  s.final = final;
  return s;
}

TEST(StatsMergerTest, MessageIsFiledUnderTheMiddleOfWhatItCovers) {
  StatsMerger m;
  // Arriving at 2.4 s, covering [1.4 s, 2.4 s): its middle 1.9 s is second 1.
  m.Add("w", Stats({Endpoint("GET /a", 3, 0, 100)}), 2400 * kMs);
  // Arriving at 2.6 s: middle 2.1 s, second 2.
  m.Add("w", Stats({Endpoint("GET /a", 5, 0, 100)}), 2600 * kMs);
  EXPECT_EQ(m.open_seconds(), 2u);
  m.CloseSeconds(0, /*all=*/true);
  ASSERT_EQ(m.timeline().size(), 2u);
  EXPECT_EQ(m.timeline()[0].t, 1);
  EXPECT_EQ(m.timeline()[0].requests, 3);
  EXPECT_EQ(m.timeline()[1].t, 2);
  EXPECT_EQ(m.timeline()[1].requests, 5);
}

TEST(StatsMergerTest, SecondClosesOnlyWhenNoMessageCanStillArrive) {
  StatsMerger m;
  m.Add("w", Stats({Endpoint("GET /a", 1, 0, 100)}), 1000 * kMs);  // second 0
  // Second 0 may receive data until 1.5 s; it closes 100 ms after that.
  EXPECT_EQ(m.CloseSeconds(1599 * kMs, false), 0u);
  EXPECT_TRUE(m.timeline().empty());
  EXPECT_EQ(m.CloseSeconds(1600 * kMs, false), 1u);
  ASSERT_EQ(m.timeline().size(), 1u);
  EXPECT_EQ(m.open_seconds(), 0u);
}

TEST(StatsMergerTest, ClosedSecondIsFinalAndLateDataGoesToTheFirstOpenOne) {
  StatsMerger m;
  m.Add("w", Stats({Endpoint("GET /a", 4, 1, 200)}), 1000 * kMs);  // second 0
  m.CloseSeconds(1600 * kMs, false);
  const RunSecond closed = m.timeline()[0];
  // A late message for second 0 (a 4 s interval arriving at 2 s).
  StatsMsg late = Stats({Endpoint("GET /a", 7, 0, 900)});
  late.interval_ms = 4000;
  m.Add("w", late, 2000 * kMs);
  m.CloseSeconds(0, /*all=*/true);
  ASSERT_EQ(m.timeline().size(), 2u);
  EXPECT_EQ(m.timeline()[0].requests, closed.requests);
  EXPECT_EQ(m.timeline()[0].p99_us, closed.p99_us);
  EXPECT_EQ(m.timeline()[1].t, 1);
  EXPECT_EQ(m.timeline()[1].requests, 7);
  // Nothing lost: the totals hold both.
  EXPECT_EQ(m.Aggregated().requests, 11);
}

TEST(StatsMergerTest, ClosedSecondSumsWorkersAndKeepsPercentiles) {
  StatsMerger m;
  m.Add("a", Stats({Endpoint("GET /a", 10, 2, 1000)}, 3), 1000 * kMs);
  m.Add("b", Stats({Endpoint("GET /b", 30, 0, 5000)}, 4), 1100 * kMs);
  m.Add("a", Stats({}, 5), 1200 * kMs);  // a's later gauge in the same second
  StatsMsg dropped;
  dropped.dropped = 6;
  dropped.users = 4;
  m.Add("b", dropped, 1300 * kMs);
  m.CloseSeconds(0, true);
  ASSERT_EQ(m.timeline().size(), 1u);
  const RunSecond& s = m.timeline()[0];
  EXPECT_EQ(s.requests, 40);
  EXPECT_EQ(s.rps, 40);
  EXPECT_EQ(s.failures, 2);
  EXPECT_EQ(s.dropped, 6);
  EXPECT_EQ(s.users, 5 + 4) << "the last gauge of each worker";
  EXPECT_EQ(s.workers, 2);
  HdrHistogram both = HdrHistogram::ForLatencyMicros();
  both.RecordN(1000, 10);
  both.RecordN(5000, 30);
  EXPECT_EQ(s.p50_us, both.ValueAtPercentile(50));
  EXPECT_EQ(s.p95_us, both.ValueAtPercentile(95));
  EXPECT_EQ(s.max_us, both.Max());
  // One interval-log line per endpoint of the closed second.
  EXPECT_EQ(m.hlog().intervals(), 2u);
  EXPECT_EQ(m.dropped(), 6);
}

// A worker's final message reports the users left after its share ended;
// the second keeps the users it ran there, if it reported any.
TEST(StatsMergerTest, FinalGaugeDoesNotEraseTheUsersThatRan) {
  StatsMerger m;
  m.Add("a", Stats({}, 7), 1000 * kMs);
  m.Add("a", Stats({}, 0, /*final=*/true), 1200 * kMs);
  m.Add("b", Stats({}, 0, /*final=*/true), 1200 * kMs);
  m.CloseSeconds(0, true);
  ASSERT_EQ(m.timeline().size(), 1u);
  EXPECT_EQ(m.timeline()[0].users, 7);
  EXPECT_EQ(m.timeline()[0].workers, 2);
}

TEST(StatsMergerTest, TotalsAndAggregateAreExactSums) {
  StatsMerger m;
  m.Add("a", Stats({Endpoint("GET /a", 10, 1, 100), Endpoint("GET /b", 5, 0, 300)}),
        1000 * kMs);
  EXPECT_EQ(m.Aggregated().latency_us.TotalCount(), 15);
  m.Add("b", Stats({Endpoint("GET /a", 20, 2, 200)}), 3000 * kMs);
  ASSERT_EQ(m.endpoints().size(), 2u);
  const EndpointTotals& a = m.endpoints()[m.endpoint_index().at("GET /a")];
  EXPECT_EQ(a.requests, 30);
  EXPECT_EQ(a.failures, 3);
  EXPECT_EQ(a.bytes_in, 300);
  EXPECT_EQ(a.latency_us.TotalCount(), 30);
  const EndpointTotals& all = m.Aggregated();
  EXPECT_EQ(all.name, "Aggregated");
  EXPECT_EQ(all.requests, 35);
  EXPECT_EQ(all.failures, 3);
  EXPECT_EQ(all.latency_us.TotalCount(), 35) << "summed again after a merge";
  EXPECT_EQ(all.latency_us.Max(),
            m.endpoints()[m.endpoint_index().at("GET /b")].latency_us.Max());
  EXPECT_EQ(m.AggregatedCounts().requests, 35);
}

// (The endpoint cap works the same way; 1,000 endpoints' histograms take
// 370 MB, too much for a unit test.)
TEST(StatsMergerTest, CheckNamesPastTheCapGoToOther) {
  StatsMerger m;
  StatsMsg s;
  for (size_t i = 0; i < StatsMerger::kMaxChecks + 5; ++i) {
    s.checks.push_back({"c" + std::to_string(i), 1, 0});
  }
  m.Add("a", s, 1000 * kMs);
  EXPECT_EQ(m.checks().size(), StatsMerger::kMaxChecks + 1);
  EXPECT_EQ(m.checks().at("other").passed, 5);
  m.Add("a", s, 1000 * kMs);  // known names keep their own rows
  EXPECT_EQ(m.checks().at("c0").passed, 2);
  EXPECT_EQ(m.checks().at("other").passed, 10);
}

TEST(StatsMergerTest, ChecksAreSummedByName) {
  StatsMerger m;
  StatsMsg s;
  s.checks = {{"status is 200", 9, 1}, {"body has id", 3, 0}};
  m.Add("a", s, 1000 * kMs);
  m.Add("b", s, 1000 * kMs);
  EXPECT_EQ(m.checks().at("status is 200").passed, 18);
  EXPECT_EQ(m.checks().at("status is 200").failed, 2);
  EXPECT_EQ(m.checks().at("body has id").passed, 6);
}

// Before the start (a negative run time) data lands in second 0.
TEST(StatsMergerTest, EarlyDataLandsInSecondZero) {
  StatsMerger m;
  m.Add("a", Stats({Endpoint("GET /a", 2, 0, 100)}), -3 * kSec);
  m.CloseSeconds(0, true);
  ASSERT_EQ(m.timeline().size(), 1u);
  EXPECT_EQ(m.timeline()[0].t, 0);
}

}  // namespace
}  // namespace loadd
