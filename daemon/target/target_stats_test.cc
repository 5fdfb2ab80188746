#include "daemon/target/target_stats.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

TEST(TargetStatsTest, SumsShards) {
  TargetStats stats(2);
  stats.shard(0)->CountResponse(200);
  stats.shard(1)->CountResponse(200);
  stats.shard(1)->CountResponse(503);
  stats.OnAccept();
  stats.OnAccept();
  stats.OnClose();
  TargetStatsSnapshot snapshot = stats.Snapshot();
  EXPECT_EQ(snapshot.requests, 3u);
  EXPECT_EQ(snapshot.by_status, (std::map<int, uint64_t>{{200, 2}, {503, 1}}));
  EXPECT_EQ(snapshot.connections_accepted, 2u);
  EXPECT_EQ(snapshot.connections_open, 1);
}

TEST(TargetStatsTest, ResetZeroesCountersButNotOpenConnections) {
  TargetStats stats(1);
  stats.OnAccept();
  stats.shard(0)->CountResponse(200);
  stats.Reset();
  TargetStatsSnapshot snapshot = stats.Snapshot();
  EXPECT_EQ(snapshot.requests, 0u);
  EXPECT_TRUE(snapshot.by_status.empty());
  EXPECT_EQ(snapshot.connections_accepted, 0u);
  EXPECT_EQ(snapshot.connections_open, 1);
  stats.shard(0)->CountResponse(404);
  snapshot = stats.Snapshot();
  EXPECT_EQ(snapshot.requests, 1u);
  EXPECT_EQ(snapshot.by_status, (std::map<int, uint64_t>{{404, 1}}));
}

TEST(TargetStatsTest, Json) {
  TargetStatsSnapshot snapshot;
  snapshot.requests = 3;
  snapshot.by_status = {{200, 2}, {503, 1}};
  snapshot.connections_accepted = 4;
  snapshot.connections_open = 1;
  snapshot.last_request_unix_ms = 1700000000123;
  EXPECT_EQ(snapshot.ToJson(),
            "{\"requests\": 3, \"by_status\": {\"200\": 2, \"503\": 1}, "
            "\"connections_accepted\": 4, \"connections_open\": 1, "
            "\"last_request_unix_ms\": 1700000000123, \"latency_us\": {\"count\": 0, "
            "\"p50\": 0, \"p90\": 0, \"p99\": 0, \"p99_9\": 0, \"max\": 0}}\n");
  snapshot = TargetStatsSnapshot();
  snapshot.latency_us = {5, 20000, 20100, 21000, 21500, 22000};
  EXPECT_NE(snapshot.ToJson().find("\"latency_us\": {\"count\": 5, \"p50\": 20000, "
                                   "\"p90\": 20100, \"p99\": 21000, \"p99_9\": 21500, "
                                   "\"max\": 22000}}"),
            std::string::npos)
      << snapshot.ToJson();
}

TEST(TargetStatsTest, LastRequestIsTheLatestOfAnyShardInWallClock) {
  TargetStats stats(2);
  // Monotonic "now" is 10 s; the wall clock then reads 1700000000000 ms.
  constexpr int64_t kMonoNow = 10'000'000'000, kWallNow = 1'700'000'000'000;
  EXPECT_EQ(stats.Snapshot(kMonoNow, kWallNow).last_request_unix_ms, 0)
      << "no request yet";
  stats.shard(0)->NoteRequest(7'000'000'000);  // 3 s ago
  stats.shard(1)->NoteRequest(9'250'000'000);  // 0.75 s ago
  EXPECT_EQ(stats.Snapshot(kMonoNow, kWallNow).last_request_unix_ms, kWallNow - 750);
  stats.Reset();
  EXPECT_EQ(stats.Snapshot(kMonoNow, kWallNow).last_request_unix_ms, kWallNow - 750);
}

TEST(TargetStatsTest, ServiceTimesMergeAcrossShardsAndReset) {
  TargetStats stats(2);
  for (int i = 1; i <= 100; ++i) stats.shard(i % 2)->CountResponse(200, i * 1000);
  stats.shard(0)->CountResponse(200);  // untimed: counted, not in the histogram
  TargetStatsSnapshot snapshot = stats.Snapshot();
  EXPECT_EQ(snapshot.requests, 101u);
  EXPECT_EQ(snapshot.latency_us.count, 100);
  // 3 significant digits: each percentile lies within 0.1% above the value.
  EXPECT_NEAR(snapshot.latency_us.p50, 50000, 50);
  EXPECT_NEAR(snapshot.latency_us.p99, 99000, 99);
  EXPECT_NEAR(snapshot.latency_us.max, 100000, 100);
  stats.Reset();
  EXPECT_EQ(stats.Snapshot().latency_us.count, 0);
}

}  // namespace
}  // namespace loadd
