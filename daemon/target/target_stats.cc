#include "daemon/target/target_stats.h"

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
          ", \"connections_open\": " + std::to_string(connections_open) + "}\n";
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

TargetStatsSnapshot TargetStats::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  Totals now = Sum();
  TargetStatsSnapshot snapshot;
  snapshot.requests = now.requests - baseline_.requests;
  snapshot.connections_accepted = now.accepted - baseline_.accepted;
  snapshot.connections_open = connections_open();
  for (int s = 0; s < kStatusSlots; ++s) {
    uint64_t count = now.by_status[s] - baseline_.by_status[s];
    if (count != 0) snapshot.by_status[s] = count;
  }
  return snapshot;
}

void TargetStats::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  baseline_ = Sum();
}

}  // namespace loadd
