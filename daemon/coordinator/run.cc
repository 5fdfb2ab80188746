#include "daemon/coordinator/run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/clock.h"

namespace loadd {
namespace {

// A stats message arriving at run time T covers [T - interval, T); it is
// filed under the second that holds the middle of that span, which absorbs
// up to half an interval of delivery jitter. Seconds close 0.5 s after they
// end (kCloseLagNs), when no message for them can still be on its way.
constexpr int64_t kCloseLagNs = kNsPerSec / 2;

void Num(JsonWriter* w, const char* key, int64_t v) {
  w->Key(key);
  w->Int64(v);
}
void Dbl(JsonWriter* w, const char* key, double v) {
  w->Key(key);
  w->Double(std::isfinite(v) ? std::round(v * 10) / 10 : 0);
}
void Str(JsonWriter* w, const char* key, std::string_view v) {
  w->Key(key);
  WriteString(w, v);
}

void WriteErrors(JsonWriter* w, const ErrorCounts& errors, bool all) {
  w->Key("errors");
  w->StartObject();
  for (int i = 0; i < static_cast<int>(ErrorKind::kCount); ++i) {
    if (!all && errors[i] == 0) continue;
    Num(w, ErrorKindName(static_cast<ErrorKind>(i)), errors[i]);
  }
  w->EndObject();
}

void WriteEndpoint(JsonWriter* w, const EndpointTotals& e, double seconds) {
  const HdrHistogram& h = e.latency_us;
  w->StartObject();
  Str(w, "name", e.name);
  Num(w, "requests", e.requests);
  Num(w, "failures", e.failures);
  Dbl(w, "rps", seconds > 0 ? static_cast<double>(e.requests) / seconds : 0);
  Num(w, "bytes_in", e.bytes_in);
  Num(w, "min_us", h.Min());
  Dbl(w, "mean_us", h.Mean());
  Dbl(w, "stddev_us", h.StdDev());
  Num(w, "p50_us", h.ValueAtPercentile(50));
  Num(w, "p90_us", h.ValueAtPercentile(90));
  Num(w, "p95_us", h.ValueAtPercentile(95));
  Num(w, "p99_us", h.ValueAtPercentile(99));
  Num(w, "p999_us", h.ValueAtPercentile(99.9));
  Num(w, "max_us", h.Max());
  WriteErrors(w, e.errors, false);
  if (e.service_us.TotalCount() > 0) {
    // Open model: the uncorrected time from sending, beside the corrected
    // latency above (which counts from each iteration's intended start).
    const HdrHistogram& s = e.service_us;
    w->Key("service");
    w->StartObject();
    Num(w, "min_us", s.Min());
    Dbl(w, "mean_us", s.Mean());
    Num(w, "p50_us", s.ValueAtPercentile(50));
    Num(w, "p90_us", s.ValueAtPercentile(90));
    Num(w, "p95_us", s.ValueAtPercentile(95));
    Num(w, "p99_us", s.ValueAtPercentile(99));
    Num(w, "p999_us", s.ValueAtPercentile(99.9));
    Num(w, "max_us", s.Max());
    w->EndObject();
  }
  w->EndObject();
}

std::string IsoTime(std::time_t t) {
  char buf[32];
  std::tm tm;
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

const char* RunStateName(RunState state) {
  static constexpr const char* kNames[] = {"waiting",  "starting", "running", "stopping",
                                           "finished", "stopped",  "failed"};
  return kNames[static_cast<int>(state)];
}

void EndpointTotals::Add(const EndpointStats& e) {
  requests += e.requests;
  failures += e.failures;
  bytes_in += e.bytes_in;
  for (size_t i = 0; i < errors.size(); ++i) errors[i] += e.errors[i];
  latency_us.Merge(e.latency_us);
  service_us.Merge(e.service_us);
}

void Run::NoteCpu(const std::string& worker_id, double percent, int64_t now_ns) {
  constexpr double kCpuWarnPercent = 90;
  if (percent <= kCpuWarnPercent || now_ns < start_ns_) return;
  int64_t t = (now_ns - start_ns_) / kNsPerSec;
  for (CpuWarning& w : cpu_warnings_) {
    if (w.worker_id == worker_id && t - w.to_s <= 2) {  // the same episode
      w.to_s = t;
      w.max_percent = std::max(w.max_percent, percent);
      return;
    }
  }
  if (cpu_warnings_.size() < 1000) cpu_warnings_.push_back({worker_id, t, t, percent});
}

Run::Run(std::string id, Plan plan, int64_t created_ns, int64_t start_ns)
    : id_(std::move(id)),
      plan_(std::move(plan)),
      created_wall_(std::time(nullptr)),
      created_ns_(created_ns),
      start_ns_(start_ns) {
  aggregated_.name = "Aggregated";
}

void Run::SetState(RunState state, int64_t now_ns, std::string message) {
  state_ = state;
  if (!message.empty()) message_ = std::move(message);
  if (IsFinal(state)) {
    end_ns_ = std::max(now_ns, start_ns_);
    CloseSeconds(now_ns, /*all=*/true);
  }
}

int64_t Run::SecondOf(int64_t now_ns, int64_t interval_ms) const {
  int64_t middle = now_ns - start_ns_ - interval_ms * kNsPerMs / 2;
  return std::max<int64_t>(0, middle / kNsPerSec);
}

double Run::ElapsedSeconds(int64_t now_ns) const {
  int64_t end = end_ns_ != 0 ? end_ns_ : now_ns;
  end = std::min(end, start_ns_ + plan_.duration_ns);
  return std::max<double>(0, static_cast<double>(end - start_ns_) / 1e9);
}

EndpointTotals* Run::EndpointFor(const std::string& name) {
  auto it = endpoint_index_.find(name);
  if (it != endpoint_index_.end()) return &endpoints_[it->second];
  std::string key = endpoints_.size() >= kMaxEndpoints ? "other" : name;
  it = endpoint_index_.find(key);
  if (it != endpoint_index_.end()) return &endpoints_[it->second];
  endpoint_index_[key] = endpoints_.size();
  endpoints_.emplace_back();
  endpoints_.back().name = key;
  return &endpoints_.back();
}

void Run::AddStats(RunWorker* worker, const StatsMsg& stats, int64_t now_ns) {
  OpenSecond& second = open_seconds_[SecondOf(now_ns, stats.interval_ms)];
  for (const EndpointStats& e : stats.endpoints) {
    EndpointFor(e.name)->Add(e);
    aggregated_.Add(e);
    worker->requests += e.requests;
    second.requests += e.requests;
    second.failures += e.failures;
    second.latency_us.Merge(e.latency_us);
  }
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
    const OpenSecond& s = it->second;
    SecondSummary sum;
    sum.t = it->first;
    sum.requests = s.requests;
    sum.failures = s.failures;
    sum.dropped = s.dropped;
    for (const auto& [worker, users] : s.users) sum.users += users;
    sum.workers = static_cast<int64_t>(s.users.size());
    sum.p50_us = s.latency_us.ValueAtPercentile(50);
    sum.p95_us = s.latency_us.ValueAtPercentile(95);
    sum.p99_us = s.latency_us.ValueAtPercentile(99);
    sum.max_us = s.latency_us.Max();
    timeline_.push_back(sum);
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

void Run::WriteSummary(JsonWriter* w) const {
  w->StartObject();
  Str(w, "id", id_);
  Str(w, "name", plan_.name);
  Str(w, "state", RunStateName(state_));
  Str(w, "created_at", IsoTime(created_wall_));
  Num(w, "users", plan_.users);
  Dbl(w, "duration_s", static_cast<double>(plan_.duration_ns) / 1e9);
  Num(w, "requests", aggregated_.requests);
  Num(w, "warnings", static_cast<int64_t>(cpu_warnings_.size()));
  Num(w, "failures", aggregated_.failures);
  w->EndObject();
}

void Run::WriteFull(JsonWriter* w, bool timeline, int64_t now_ns) const {
  double seconds = ElapsedSeconds(now_ns);
  w->StartObject();
  Str(w, "id", id_);
  Str(w, "name", plan_.name);
  Str(w, "state", RunStateName(state_));
  Str(w, "message", message_);
  Str(w, "created_at", IsoTime(created_wall_));
  Dbl(w, "elapsed_s", seconds);
  Dbl(w, "duration_s", static_cast<double>(plan_.duration_ns) / 1e9);
  w->Key("plan");
  WritePlan(plan_, w);
  Num(w, "users", ActiveUsers());
  Num(w, "target_users", plan_.users);
  w->Key("workers");
  w->StartArray();
  for (const RunWorker& rw : workers_) {
    w->StartObject();
    Str(w, "id", rw.worker_id);
    Str(w, "host", rw.host);
    Num(w, "stripe", rw.stripe);
    Num(w, "users", rw.users_assigned);
    Num(w, "users_now", rw.users_now);
    Str(w, "state", rw.lost ? "lost" : rw.final ? "done" : "running");
    if (rw.lost) Dbl(w, "lost_at_s", static_cast<double>(rw.lost_at_ms) / 1000);
    Num(w, "requests", rw.requests);
    Dbl(w, "cpu_percent", rw.cpu_percent);
    w->EndObject();
  }
  w->EndArray();
  w->Key("totals");
  w->StartObject();
  Num(w, "requests", aggregated_.requests);
  Num(w, "failures", aggregated_.failures);
  Dbl(w, "rps", seconds > 0 ? static_cast<double>(aggregated_.requests) / seconds : 0);
  Num(w, "dropped", dropped_);
  WriteErrors(w, aggregated_.errors, true);
  w->EndObject();
  w->Key("warnings");
  w->StartArray();
  for (const CpuWarning& c : cpu_warnings_) {
    w->StartObject();
    Str(w, "kind", "cpu");
    Str(w, "worker", c.worker_id);
    Num(w, "from_s", c.from_s);
    Num(w, "to_s", c.to_s);
    Dbl(w, "max_cpu_percent", c.max_percent);
    char text[256];
    std::snprintf(text, sizeof text,
                  "worker %s used %.0f%% CPU from %llds to %llds; its latencies are suspect "
                  "(add workers or lower the load per worker)",
                  c.worker_id.c_str(), c.max_percent, static_cast<long long>(c.from_s),
                  static_cast<long long>(c.to_s));
    Str(w, "message", text);
    w->EndObject();
  }
  w->EndArray();
  w->Key("endpoints");
  w->StartArray();
  for (const EndpointTotals& e : endpoints_) WriteEndpoint(w, e, seconds);
  w->EndArray();
  w->Key("aggregated");
  WriteEndpoint(w, aggregated_, seconds);
  if (timeline) {
    w->Key("timeline");
    w->StartArray();
    for (const SecondSummary& s : timeline_) {
      w->StartObject();
      Num(w, "t", s.t);
      Num(w, "users", s.users);
      Num(w, "requests", s.requests);
      Num(w, "failures", s.failures);
      Num(w, "rps", s.requests);
      Num(w, "p50_us", s.p50_us);
      Num(w, "p95_us", s.p95_us);
      Num(w, "p99_us", s.p99_us);
      Num(w, "max_us", s.max_us);
      Num(w, "dropped", s.dropped);
      Num(w, "workers", s.workers);
      w->EndObject();
    }
    w->EndArray();
  }
  w->EndObject();
}

}  // namespace loadd
