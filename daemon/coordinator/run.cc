#include "daemon/coordinator/run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/clock.h"
#include "common/redact.h"
#include "common/units.h"
#include "daemon/coordinator/data_warning.h"

namespace loadd {
namespace {

// A stats message arriving at run time T covers [T - interval, T); it is
// filed under the second that holds the middle of that span, which absorbs
// up to half an interval of delivery jitter. Seconds close 0.5 s after they
// end (kCloseLagNs), when no message for them can still be on its way.
constexpr int64_t kCloseLagNs = kNsPerSec / 2;

}  // namespace

const EndpointTotals& Run::Aggregated() const {
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

HdrHistogram Run::SecondLatency(const OpenSecond& s) {
  HdrHistogram sum = HdrHistogram::ForLatencyMicros();
  for (const auto& [index, latency_us] : s.endpoint_latency_us) sum.Merge(latency_us);
  return sum;
}

void Run::NoteCpu(const std::string& worker_id, double percent, int64_t now_ns) {
  constexpr double kCpuWarnPercent = 90;
  if (percent <= kCpuWarnPercent || now_ns < start_ns_) return;
  int64_t t = (now_ns - start_ns_) / kNsPerSec;
  for (CpuWarning& w : cpu_warnings_) {
    if (w.worker_id == worker_id && t - w.to_s <= 2) {  // the same episode
      ++version_;
      w.to_s = t;
      w.max_percent = std::max(w.max_percent, percent);
      return;
    }
  }
  if (cpu_warnings_.size() < 1000) cpu_warnings_.push_back({worker_id, t, t, percent});
  ++version_;
}

Run::Run(std::string id, Plan plan, int64_t created_ns, int64_t start_ns,
         int64_t created_epoch_ns)
    : id_(std::move(id)),
      plan_(std::move(plan)),
      created_epoch_ns_(created_epoch_ns),
      created_ns_(created_ns),
      start_ns_(start_ns) {
  aggregated_.name = "Aggregated";
  profile_ = plan_.Profile();
}

void Run::AddScale(RunEvent event) {
  int64_t at_ns = event.at_ms * kNsPerMs;
  profile_ = profile_.Retarget(at_ns, event.to, event.ramp_rate);
  events_.push_back(std::move(event));
  Touch();
}

bool Run::SetState(RunState state, int64_t now_ns, std::string message) {
  if (!IsLegalTransition(state_, state)) {
    ReportIllegalTransition(state_, state);
    return false;
  }
  ++version_;
  state_ = state;
  if (!message.empty()) message_ = std::move(message);
  if (IsFinal(state)) {
    if (!end_reason_) end_reason_ = DerivedEndReason();
    end_ns_ = std::max(now_ns, start_ns_);
    CloseSeconds(now_ns, /*all=*/true);
    results_ = EvaluateAll(now_ns);
  }
  return true;
}

int64_t Run::SecondOf(int64_t now_ns, int64_t interval_ms) const {
  int64_t middle = now_ns - start_ns_ - interval_ms * kNsPerMs / 2;
  // A closed second is never reopened: the timeline stays in order and a
  // second, once served, never changes. Workers send at least once a
  // second, which never reaches that far back; a longer interval (the wire
  // allows one) lands in the first open second.
  int64_t first_open = timeline_.empty() ? 0 : timeline_.back().t + 1;
  return std::max<int64_t>(first_open, middle / kNsPerSec);
}

double Run::ElapsedSeconds(int64_t now_ns) const {
  int64_t end = end_ns_ != 0 ? end_ns_ : now_ns;
  end = std::min(end, start_ns_ + plan_.duration_ns);
  return std::max<double>(0, static_cast<double>(end - start_ns_) / 1e9);
}

size_t Run::EndpointIndex(const std::string& name) {
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

void Run::AddChecks(const std::vector<CheckCount>& checks) {
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
void Run::AddStats(RunWorker* worker, const StatsMsg& stats, int64_t now_ns) {
  ++version_;
  if (!stats.endpoints.empty()) ++merges_;
  OpenSecond& second = open_seconds_[SecondOf(now_ns, stats.interval_ms)];
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
    worker->requests += e.requests;
    second.requests += e.requests;
    second.failures += e.failures;
  }
  AddChecks(stats.checks);
  second.dropped += stats.dropped;
  dropped_ += stats.dropped;
  worker->users_now = stats.users;
  worker->cpu_percent = stats.cpu_percent;
  NoteCpu(worker->worker_id, stats.cpu_percent, now_ns);
  // The final message reports the users left after the run ended (zero);
  // the second it lands in keeps the users that actually ran in it.
  if (!stats.final) {
    second.users[worker->worker_id] = stats.users;
  } else {
    second.users.emplace(worker->worker_id, stats.users);  // only if not reported yet
  }
  if (stats.final) {
    worker->final = true;
    worker->users_now = 0;
  }
}

void Run::CloseSeconds(int64_t now_ns, bool all) {
  // Second s can receive data until arrival time start + s + 1.5 s.
  while (!open_seconds_.empty()) {
    auto it = open_seconds_.begin();
    int64_t closes_ns = start_ns_ + (it->first + 1) * kNsPerSec + kCloseLagNs;
    if (!all && now_ns < closes_ns + 100 * kNsPerMs) break;
    ++version_;
    const OpenSecond& s = it->second;
    SecondSummary sum;
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
  }
}

RunWorker* Run::Find(const std::string& worker_id) {
  for (RunWorker& rw : workers_) {
    if (rw.worker_id == worker_id && !rw.lost) return &rw;
  }
  return nullptr;
}

bool Run::AllWorkersDone() const {
  return std::all_of(workers_.begin(), workers_.end(),
                     [](const RunWorker& w) { return w.final || w.lost; });
}

int64_t Run::ActiveUsers() const {
  int64_t users = 0;
  for (const RunWorker& w : workers_) {
    if (!w.lost) users += w.users_now;
  }
  return users;
}

std::string Run::Hlog() const {
  return hlog_.Format(static_cast<double>(created_epoch_ns_) / 1e9 +
                      static_cast<double>(start_ns_ - created_ns_) / 1e9);
}

}  // namespace loadd
