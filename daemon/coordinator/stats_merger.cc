#include "daemon/coordinator/stats_merger.h"

#include <algorithm>

#include "common/clock.h"

namespace loadd {

StatsMerger::StatsMerger() { aggregated_.name = "Aggregated"; }

const EndpointTotals& StatsMerger::Aggregated() const {
  if (aggregated_merges_ != merges_) {
    aggregated_.latency_us.Reset();
    aggregated_.service_us.Reset();
    for (const EndpointTotals& e : endpoints_) {
      aggregated_.latency_us.Merge(e.latency_us);
      aggregated_.service_us.Merge(e.service_us);
    }
    aggregated_merges_ = merges_;
  }
  return aggregated_;
}

HdrHistogram StatsMerger::SecondLatency(const OpenSecond& s) {
  HdrHistogram sum = HdrHistogram::ForLatencyMicros();
  for (const auto& [index, latency_us] : s.endpoint_latency_us) sum.Merge(latency_us);
  return sum;
}

int64_t StatsMerger::SecondOf(int64_t run_ns, int64_t interval_ms) const {
  int64_t middle = run_ns - interval_ms * kNsPerMs / 2;
  // A closed second is never reopened (see the header). Workers send at
  // least once a second, which never reaches that far back; a longer
  // interval (the wire allows one) lands in the first open second.
  int64_t first_open = timeline_.empty() ? 0 : timeline_.back().t + 1;
  return std::max<int64_t>(first_open, middle / kNsPerSec);
}

size_t StatsMerger::EndpointIndex(const std::string& name) {
  auto it = endpoint_index_.find(name);
  if (it != endpoint_index_.end()) return it->second;
  std::string key = endpoints_.size() >= kMaxEndpoints ? "other" : name;
  it = endpoint_index_.find(key);
  if (it != endpoint_index_.end()) return it->second;
  endpoint_index_[key] = endpoints_.size();
  endpoints_.emplace_back();
  endpoints_.back().name = key;
  return endpoints_.size() - 1;
}

void StatsMerger::AddChecks(const std::vector<CheckCount>& checks) {
  for (const CheckCount& c : checks) {
    auto it = checks_.find(c.name);
    if (it == checks_.end()) {
      it = checks_.try_emplace(checks_.size() >= kMaxChecks ? "other" : c.name).first;
    }
    it->second.passed += c.passed;
    it->second.failed += c.failed;
  }
}

// Each endpoint's delta is merged twice, into the endpoint's totals and its
// second; the aggregate and the second's latency over all endpoints are
// summed from those when needed (Aggregated, SecondLatency).
void StatsMerger::Add(const std::string& worker_id, const StatsMsg& stats,
                      int64_t run_ns) {
  if (!stats.endpoints.empty()) ++merges_;
  OpenSecond& second = open_seconds_[SecondOf(run_ns, stats.interval_ms)];
  for (const EndpointStats& e : stats.endpoints) {
    size_t index = EndpointIndex(e.name);
    endpoints_[index].Add(e);
    auto it = second.endpoint_latency_us.find(index);
    if (it == second.endpoint_latency_us.end()) {
      it = second.endpoint_latency_us.emplace(index, HdrHistogram::ForLatencyMicros())
               .first;
    }
    it->second.Merge(e.latency_us);
    aggregated_.AddCounts(e);
    second.requests += e.requests;
    second.failures += e.failures;
  }
  AddChecks(stats.checks);
  second.dropped += stats.dropped;
  dropped_ += stats.dropped;
  if (!stats.final) {
    second.users[worker_id] = stats.users;
  } else {
    second.users.emplace(worker_id, stats.users);  // only if not reported yet
  }
}

size_t StatsMerger::CloseSeconds(int64_t run_ns, bool all) {
  size_t closed = 0;
  while (!open_seconds_.empty()) {
    auto it = open_seconds_.begin();
    int64_t closes_ns = (it->first + 1) * kNsPerSec + kCloseLagNs;
    if (!all && run_ns < closes_ns + 100 * kNsPerMs) break;
    const OpenSecond& s = it->second;
    RunSecond sum;
    sum.t = it->first;
    sum.requests = s.requests;
    sum.rps = s.requests;  // a second's requests are its requests per second
    sum.failures = s.failures;
    sum.dropped = s.dropped;
    for (const auto& [worker, users] : s.users) sum.users += users;
    sum.workers = static_cast<int64_t>(s.users.size());
    const HdrHistogram latency_us = SecondLatency(s);
    sum.p50_us = latency_us.ValueAtPercentile(50);
    sum.p95_us = latency_us.ValueAtPercentile(95);
    sum.p99_us = latency_us.ValueAtPercentile(99);
    sum.max_us = latency_us.Max();
    timeline_.push_back(sum);
    for (const auto& [index, latency_us] : s.endpoint_latency_us) {
      hlog_.Add(it->first, endpoints_[index].name, latency_us);
    }
    hlog_end_.push_back(hlog_.intervals());
    open_seconds_.erase(it);
    ++closed;
  }
  return closed;
}

}  // namespace loadd
