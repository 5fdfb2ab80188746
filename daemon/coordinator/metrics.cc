#include "daemon/coordinator/metrics.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <utility>

namespace loadd {
namespace {

struct Label {
  const char* name;
  std::string_view value;
};

// Writes one family at a time: its HELP and TYPE lines, then its samples.
class Exposition {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;  // constant text: no \ or line feed to escape
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void Sample(std::string_view name, std::initializer_list<Label> labels, double value,
              const Label* extra = nullptr) {
    out_ += name;
    if (labels.size() > 0 || extra) {
      out_ += '{';
      bool first = true;
      auto add = [&](const Label& l) {
        if (!first) out_ += ',';
        first = false;
        out_ += l.name;
        out_ += "=\"";
        out_ += EscapeLabelValue(l.value);
        out_ += '"';
      };
      for (const Label& l : labels) add(l);
      if (extra) add(*extra);
      out_ += '}';
    }
    out_ += ' ';
    out_ += FormatSampleValue(value);
    out_ += '\n';
  }

  // A histogram's _bucket, _sum and _count samples (family written before).
  void Histogram(const std::string& name, std::initializer_list<Label> labels,
                 const LatencyBuckets& b) {
    for (size_t i = 0; i < kLatencyBucketBoundsUs.size(); ++i) {
      std::string le =
          FormatSampleValue(static_cast<double>(kLatencyBucketBoundsUs[i]) / 1e6);
      Label l{"le", le};
      Sample(name + "_bucket", labels, static_cast<double>(b.cumulative[i]), &l);
    }
    Label inf{"le", "+Inf"};
    Sample(name + "_bucket", labels, static_cast<double>(b.count), &inf);
    Sample(name + "_sum", labels, b.sum_seconds);
    Sample(name + "_count", labels, static_cast<double>(b.count));
  }

  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

const char* StateName(int i) { return RunStateName(static_cast<RunState>(i)); }

void RenderFleet(const FleetMetrics& f, Exposition* x) {
  x->Family("loadd_coordinator_info", "gauge", "The coordinator's version (always 1).");
  x->Sample("loadd_coordinator_info", {{"version", f.version}}, 1);

  x->Family("loadd_workers", "gauge",
            "Registered workers by host and state (idle, busy: carries a run, lost: "
            "missed heartbeats, listed for a while).");
  for (const auto& [host, h] : f.hosts) {
    x->Sample("loadd_workers", {{"host", host}, {"state", "idle"}}, h.idle);
    x->Sample("loadd_workers", {{"host", host}, {"state", "busy"}}, h.busy);
    x->Sample("loadd_workers", {{"host", host}, {"state", "lost"}}, h.lost);
  }
  x->Family("loadd_host_cpu_percent", "gauge",
            "Mean CPU use of a host's live workers, percent of one core each.");
  for (const auto& [host, h] : f.hosts) {
    int64_t live = h.idle + h.busy;
    if (live > 0)
      x->Sample("loadd_host_cpu_percent", {{"host", host}}, h.cpu_percent_sum / live);
  }
  x->Family("loadd_bus_stats_refused_total", "counter",
            "Stats messages from workers refused as malformed (each loses a worker's "
            "second of counts; the log names the worker and the field).");
  x->Sample("loadd_bus_stats_refused_total", {}, static_cast<double>(f.stats_refused));
  x->Family("loadd_runs", "gauge", "Runs the coordinator keeps, by state.");
  for (size_t i = 0; i < f.runs_by_state.size(); ++i) {
    x->Sample("loadd_runs", {{"state", StateName(static_cast<int>(i))}},
              static_cast<double>(f.runs_by_state[i]));
  }
}

void RenderRunGauges(const RunMetrics& r, Exposition* x) {
  std::initializer_list<Label> run = {{"run", r.id}};
  x->Family("loadd_run_info", "gauge",
            "The newest run (the active one, else the last that ended): its name and "
            "state (always 1).");
  x->Sample("loadd_run_info",
            {{"run", r.id}, {"name", r.name}, {"state", RunStateName(r.state)}}, 1);
  x->Family("loadd_run_active", "gauge", "1 while the newest run has not ended, else 0.");
  x->Sample("loadd_run_active", run, IsFinal(r.state) ? 0 : 1);
  x->Family("loadd_run_users", "gauge", "Active users now (closed model) or in flight.");
  x->Sample("loadd_run_users", run, static_cast<double>(r.users));
  x->Family("loadd_run_target_users", "gauge", "The plan's users.");
  x->Sample("loadd_run_target_users", run, static_cast<double>(r.target_users));
  x->Family("loadd_run_elapsed_seconds", "gauge", "Run time so far (coordinator clock).");
  x->Sample("loadd_run_elapsed_seconds", run, r.elapsed_s);
  x->Family("loadd_run_duration_seconds", "gauge", "The plan's duration.");
  x->Sample("loadd_run_duration_seconds", run, r.duration_s);
  x->Family("loadd_run_rps", "gauge",
            "Requests per second over the run so far (the report's totals.rps); "
            "rate(loadd_run_requests_total[1m]) gives the recent rate.");
  x->Sample("loadd_run_rps", run, r.rps);
  if (IsFinal(r.state)) {
    x->Family("loadd_run_thresholds_passed", "gauge",
              "1 if every threshold passed and none aborted the run (once it ended).");
    x->Sample("loadd_run_thresholds_passed", run, r.thresholds_passed ? 1 : 0);
  }
}

void RenderRunCounters(const RunMetrics& r, Exposition* x) {
  std::initializer_list<Label> run = {{"run", r.id}};
  const EndpointMetrics& a = r.aggregated;
  x->Family("loadd_run_requests_total", "counter", "Requests completed, all endpoints.");
  x->Sample("loadd_run_requests_total", run, static_cast<double>(a.requests));
  x->Family("loadd_run_failures_total", "counter",
            "Requests that failed, all endpoints.");
  x->Sample("loadd_run_failures_total", run, static_cast<double>(a.failures));
  x->Family(
      "loadd_run_errors_total", "counter",
      "Failed requests by kind (connect, timeout, status, io, parse, interrupted).");
  for (size_t k = 0; k < a.errors.size(); ++k) {
    x->Sample("loadd_run_errors_total",
              {{"run", r.id}, {"kind", ErrorKindName(static_cast<ErrorKind>(k))}},
              static_cast<double>(a.errors[k]));
  }
  x->Family("loadd_run_dropped_total", "counter",
            "Open-model arrivals skipped at max_in_flight.");
  x->Sample("loadd_run_dropped_total", run, static_cast<double>(r.dropped));
  x->Family("loadd_run_received_bytes_total", "counter", "Response bytes received.");
  x->Sample("loadd_run_received_bytes_total", run, static_cast<double>(a.bytes_in));
  x->Family("loadd_run_latency_seconds", "histogram",
            "Request latency, all endpoints, from the merged HdrHistograms (exact "
            "percentiles: GET /v1/runs/{id}).");
  x->Histogram("loadd_run_latency_seconds", run, a.latency);
}

void RenderEndpoints(const RunMetrics& r, Exposition* x) {
  x->Family("loadd_endpoint_requests_total", "counter",
            "Requests completed, per endpoint.");
  for (const EndpointMetrics& e : r.endpoints) {
    x->Sample("loadd_endpoint_requests_total", {{"run", r.id}, {"endpoint", e.name}},
              static_cast<double>(e.requests));
  }
  x->Family("loadd_endpoint_failures_total", "counter",
            "Requests that failed, per endpoint.");
  for (const EndpointMetrics& e : r.endpoints) {
    x->Sample("loadd_endpoint_failures_total", {{"run", r.id}, {"endpoint", e.name}},
              static_cast<double>(e.failures));
  }
  x->Family("loadd_endpoint_errors_total", "counter",
            "Failed requests per endpoint and kind (kinds that occurred).");
  for (const EndpointMetrics& e : r.endpoints) {
    for (size_t k = 0; k < e.errors.size(); ++k) {
      if (e.errors[k] == 0) continue;
      x->Sample("loadd_endpoint_errors_total",
                {{"run", r.id},
                 {"endpoint", e.name},
                 {"kind", ErrorKindName(static_cast<ErrorKind>(k))}},
                static_cast<double>(e.errors[k]));
    }
  }
  x->Family("loadd_endpoint_latency_seconds", "histogram",
            "Request latency per endpoint, from the merged HdrHistograms.");
  for (const EndpointMetrics& e : r.endpoints) {
    x->Histogram("loadd_endpoint_latency_seconds", {{"run", r.id}, {"endpoint", e.name}},
                 e.latency);
  }
}

}  // namespace

LatencyBuckets BucketsOf(const HdrHistogram& latency_us) {
  LatencyBuckets b;
  std::array<int64_t, kLatencyBucketBoundsUs.size()> in_bucket{};
  latency_us.ForEachBucket([&](int64_t value, int64_t count) {
    size_t i = 0;
    while (i < kLatencyBucketBoundsUs.size() && value > kLatencyBucketBoundsUs[i]) ++i;
    if (i < in_bucket.size()) in_bucket[i] += count;
  });
  int64_t running = 0;
  for (size_t i = 0; i < in_bucket.size(); ++i) {
    running += in_bucket[i];
    b.cumulative[i] = running;
  }
  b.count = latency_us.TotalCount();
  b.sum_seconds = latency_us.Mean() * static_cast<double>(b.count) / 1e6;
  return b;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 9e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

std::string RenderMetrics(const FleetMetrics& fleet) {
  Exposition x;
  RenderFleet(fleet, &x);
  if (fleet.newest_run) {
    RenderRunGauges(*fleet.newest_run, &x);
    RenderRunCounters(*fleet.newest_run, &x);
    RenderEndpoints(*fleet.newest_run, &x);
  }
  return x.Take();
}

}  // namespace loadd
