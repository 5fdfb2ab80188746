// Prometheus metrics of the coordinator (GET /metrics, docs/operations.md,
// "Prometheus"), in the text exposition format 0.0.4.
//
// What is exported: the fleet (workers by host and state, each host's CPU,
// runs by state, the coordinator's version, stats messages refused) and the newest run
// (the active one while there is one, then the last that ended): its counters, users,
// rate, dropped arrivals, and its latency as Prometheus histogram buckets,
// fleet-wide and per endpoint. Only the newest run is exported, so the
// series stay bounded: per run at most Run::kMaxEndpoints endpoints, each
// with kLatencyBucketBoundsUs.size() + 1 buckets.
//
// The buckets are derived from the run's merged HdrHistograms: a value is
// counted in `le` when the highest equivalent value of its HdrHistogram
// bucket (what ValueAtPercentile reports) is at most `le`, so they agree
// with the REST report's percentiles to the histogram's precision (3
// significant digits). Exact percentiles stay in the REST report
// (GET /v1/runs/{id}); `_sum` is the histogram's mean times its count.
#ifndef LOADD_DAEMON_COORDINATOR_METRICS_H_
#define LOADD_DAEMON_COORDINATOR_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/hdr_histogram.h"
#include "common/wire.h"
#include "daemon/coordinator/run.h"

namespace loadd {

// Upper bounds (`le`) of the latency buckets, in microseconds: 100 us to 60 s
// on a 1-2.5-5 log scale. +Inf follows implicitly.
inline constexpr std::array<int64_t, 18> kLatencyBucketBoundsUs = {
    100,       250,       500,       1'000,      2'500,      5'000,
    10'000,    25'000,    50'000,    100'000,    250'000,    500'000,
    1'000'000, 2'500'000, 5'000'000, 10'000'000, 30'000'000, 60'000'000};

struct LatencyBuckets {
  // cumulative[i]: values <= kLatencyBucketBoundsUs[i].
  std::array<int64_t, kLatencyBucketBoundsUs.size()> cumulative{};
  int64_t count = 0;       // every value (the +Inf bucket)
  double sum_seconds = 0;  // mean * count
};
LatencyBuckets BucketsOf(const HdrHistogram& latency_us);

struct EndpointMetrics {
  std::string name;
  int64_t requests = 0;
  int64_t failures = 0;
  int64_t bytes_in = 0;
  ErrorCounts errors{};
  LatencyBuckets latency;
};

// One run as exported (built by Run::Metrics, metrics_collect.cc).
struct RunMetrics {
  std::string id;
  std::string name;
  RunState state = RunState::kStarting;
  int64_t users = 0;  // active now (the report's `users`)
  int64_t target_users = 0;
  double elapsed_s = 0;
  double duration_s = 0;
  double rps = 0;  // requests / elapsed, as the report's totals.rps
  int64_t dropped = 0;
  bool thresholds_passed = false;  // meaningful once IsFinal(state)
  EndpointMetrics aggregated;
  std::vector<EndpointMetrics> endpoints;
};

struct HostMetrics {
  int64_t idle = 0;
  int64_t busy = 0;
  int64_t lost = 0;
  double cpu_percent_sum = 0;  // over its live (idle or busy) workers
};

// Everything GET /metrics shows (built by Coordinator::Metrics).
struct FleetMetrics {
  std::string version;
  std::map<std::string, HostMetrics> hosts;  // registered workers, by host
  std::array<int64_t, static_cast<int>(kLastRunState) + 1> runs_by_state{};
  std::shared_ptr<const RunMetrics> newest_run;  // null: no run yet
  int64_t stats_refused = 0;  // binary stats messages refused (RefusedBinaryStats)
};

// The exposition, text format 0.0.4 (Content-Type kMetricsContentType).
std::string RenderMetrics(const FleetMetrics& fleet);
inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// A label value as the format wants it: \ " and line feed escaped.
std::string EscapeLabelValue(std::string_view value);
// A sample value: integers exactly, others in the shortest round-trip form,
// +Inf, -Inf, NaN.
std::string FormatSampleValue(double value);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_METRICS_H_
