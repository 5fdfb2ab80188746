#include "daemon/target/target_stats.h"

#include <algorithm>
#include <ctime>

namespace loadd {

std::string TargetStatsSnapshot::ToJson() const {
  std::string json = "{\"requests\": " + std::to_string(requests) + ", \"by_status\": {";
  bool first = true;
  for (const auto& [status, count] : by_status) {
    if (!first) json += ", ";
    first = false;
    json += "\"" + std::to_string(status) + "\": " + std::to_string(count);
  }
  json += "}, \"connections_accepted\": " + std::to_string(connections_accepted) +
          ", \"connections_open\": " + std::to_string(connections_open) +
          ", \"last_request_unix_ms\": " + std::to_string(last_request_unix_ms) +
          ", \"latency_us\": {\"count\": " + std::to_string(latency_us.count) +
          ", \"p50\": " + std::to_string(latency_us.p50) +
          ", \"p90\": " + std::to_string(latency_us.p90) +
          ", \"p99\": " + std::to_string(latency_us.p99) +
          ", \"p99_9\": " + std::to_string(latency_us.p99_9) +
          ", \"max\": " + std::to_string(latency_us.max) + "}}\n";
  return json;
}

TargetStats::TargetStats(int shard_count) {
  for (int i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<Shard>());
}

void TargetStats::OnAccept() {
  accepted_.fetch_add(1, std::memory_order_relaxed);
  open_.fetch_add(1, std::memory_order_relaxed);
}

void TargetStats::OnClose() { open_.fetch_sub(1, std::memory_order_relaxed); }

TargetStats::Totals TargetStats::Sum() const {
  Totals totals;
  totals.accepted = accepted_.load(std::memory_order_relaxed);
  for (const auto& shard : shards_) {
    totals.requests += shard->requests_.load(std::memory_order_relaxed);
    for (int s = 0; s < kStatusSlots; ++s) {
      totals.by_status[s] += shard->by_status_[s].load(std::memory_order_relaxed);
    }
  }
  return totals;
}

TargetStatsSnapshot TargetStats::Snapshot(int64_t monotonic_now_ns,
                                          int64_t wall_now_ms) const {
  if (monotonic_now_ns == 0) {
    timespec mono, wall;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    monotonic_now_ns = int64_t{mono.tv_sec} * 1'000'000'000 + mono.tv_nsec;
    wall_now_ms = int64_t{wall.tv_sec} * 1000 + wall.tv_nsec / 1'000'000;
  }
  int64_t last_ns = 0;
  for (const auto& shard : shards_) {
    last_ns = std::max(last_ns, shard->last_request_ns_.load(std::memory_order_relaxed));
  }
  MutexLock lock(&mu_);
  Totals now = Sum();
  TargetStatsSnapshot snapshot;
  snapshot.requests = now.requests - baseline_.requests;
  snapshot.connections_accepted = now.accepted - baseline_.accepted;
  snapshot.connections_open = connections_open();
  if (last_ns != 0) {
    snapshot.last_request_unix_ms =
        wall_now_ms - (monotonic_now_ns - last_ns + 999'999) / 1'000'000;
  }
  for (int s = 0; s < kStatusSlots; ++s) {
    uint64_t count = now.by_status[s] - baseline_.by_status[s];
    if (count != 0) snapshot.by_status[s] = count;
  }
  HdrHistogram merged = HdrHistogram::ForLatencyMicros();
  for (const auto& shard : shards_) {
    MutexLock shard_lock(&shard->latency_mu_);
    merged.Merge(shard->latency_);
  }
  TargetLatency& l = snapshot.latency_us;
  l.count = merged.TotalCount();
  l.p50 = merged.ValueAtPercentile(50);
  l.p90 = merged.ValueAtPercentile(90);
  l.p99 = merged.ValueAtPercentile(99);
  l.p99_9 = merged.ValueAtPercentile(99.9);
  l.max = merged.Max();
  return snapshot;
}

void TargetStats::Reset() {
  MutexLock lock(&mu_);
  baseline_ = Sum();
  for (const auto& shard : shards_) {
    MutexLock shard_lock(&shard->latency_mu_);
    shard->latency_.Reset();
  }
}

}  // namespace loadd
