// What GET /metrics exports, read from the Coordinator and its newest Run
// (metrics.h). Members of those classes, kept here beside the exporter.
#include <optional>

#include "common/wire_stats.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/metrics.h"
#include "daemon/coordinator/run.h"

namespace loadd {
namespace {

EndpointMetrics EndpointMetricsOf(const EndpointTotals& e) {
  EndpointMetrics m;
  m.name = e.name;
  m.requests = e.requests;
  m.failures = e.failures;
  m.bytes_in = e.bytes_in;
  m.errors = e.errors;
  m.latency = BucketsOf(e.latency_us);
  return m;
}

// The state of a stored summary (Run::WriteSummary's compact JSON), without
// parsing it: in JSON text every quote inside a string is escaped, so the
// first `"state":"` is the key's.
std::optional<RunState> StateOfSummary(std::string_view summary) {
  constexpr std::string_view kKey = "\"state\":\"";
  size_t at = summary.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = summary.substr(at + kKey.size());
  std::string_view name = rest.substr(0, rest.find('"'));
  for (int i = 0; i <= static_cast<int>(kLastRunState); ++i) {
    if (name == RunStateName(static_cast<RunState>(i))) return static_cast<RunState>(i);
  }
  return std::nullopt;
}

}  // namespace

RunMetrics Run::Metrics(int64_t now_ns) const {
  RunMetrics m;
  double seconds = ElapsedSeconds(now_ns);
  m.id = id_;
  m.name = plan_.name;
  m.state = state_;
  m.users = ActiveUsers();
  m.target_users = plan_.users;
  m.elapsed_s = seconds;
  m.duration_s = static_cast<double>(plan_.duration_ns) / 1e9;
  m.rps =
      seconds > 0 ? static_cast<double>(stats_.AggregatedCounts().requests) / seconds : 0;
  m.dropped = stats_.dropped();
  m.thresholds_passed = IsFinal(state_) && ThresholdsPassed();
  m.aggregated = EndpointMetricsOf(Aggregated());
  m.endpoints.reserve(stats_.endpoints().size());
  for (const EndpointTotals& e : stats_.endpoints())
    m.endpoints.push_back(EndpointMetricsOf(e));
  return m;
}

FleetMetrics Coordinator::Metrics() {
  FleetMetrics m;
  m.version = LOADD_VERSION;
  m.stats_refused = RefusedBinaryStats();
  std::string newest;
  {
    MutexLock lock(&mu_);
    for (const auto& [pipe, w] : fleet_.entries()) {
      if (!w.registered) continue;
      HostMetrics& h = m.hosts[w.hello.host];
      if (w.lost) {
        ++h.lost;
        continue;
      }
      ++(w.run_id.empty() ? h.idle : h.busy);
      h.cpu_percent_sum += w.cpu_percent;
    }
    for (const auto& [id, slot] : runs_) {
      std::optional<RunState> state = slot.run
                                          ? std::optional<RunState>(slot.run->state())
                                          : StateOfSummary(slot.summary);
      if (state) ++m.runs_by_state[static_cast<int>(*state)];
    }
    if (run_order_.empty()) return m;
    newest = run_order_.back();
    auto it = runs_.find(newest);
    if (it == runs_.end()) return m;
    if (const Run* run = it->second.run.get()) {
      auto metrics = std::make_shared<const RunMetrics>(run->Metrics(clock_->NowNs()));
      if (IsFinal(run->state())) ended_run_metrics_ = metrics;
      m.newest_run = std::move(metrics);
      return m;
    }
    if (ended_run_metrics_ && ended_run_metrics_->id == newest) {
      m.newest_run = ended_run_metrics_;
      return m;
    }
  }
  // Ended and dropped from memory before any scrape saw it: read it back once.
  Result<std::unique_ptr<Run>> run = RestoreEnded(newest);
  if (!run.ok()) return m;  // RestoreEnded logged why
  auto metrics = std::make_shared<const RunMetrics>((*run)->Metrics(clock_->NowNs()));
  MutexLock lock(&mu_);
  ended_run_metrics_ = metrics;
  m.newest_run = std::move(metrics);
  return m;
}

}  // namespace loadd
