// The statistics a run merges from its workers' stats messages, as data:
// per-endpoint totals with their cumulative histograms, check counts by
// name, and CPU warnings. Run merges into them (run.cc); the threshold
// evaluator (run_thresholds.h), the REST views and the store codec read
// them. Plain values, no locking (the owner's lock covers them).
#ifndef LOADD_DAEMON_COORDINATOR_RUN_STATS_H_
#define LOADD_DAEMON_COORDINATOR_RUN_STATS_H_

#include <cstdint>
#include <string>

#include "common/hdr_histogram.h"
#include "common/wire.h"

namespace loadd {

struct EndpointTotals {
  std::string name;
  int64_t requests = 0;
  int64_t failures = 0;
  ErrorCounts errors{};
  int64_t bytes_in = 0;
  HdrHistogram latency_us = HdrHistogram::ForLatencyMicros();
  HdrHistogram service_us = HdrHistogram::ForLatencyMicros();  // open model only
  uint64_t version = 0;  // bumped by Add, so snapshots re-encode only what changed

  void Add(const EndpointStats& e);
  // Add without the histograms (for the aggregate, see Run::Aggregated).
  void AddCounts(const EndpointStats& e);
};

struct CheckTotals {
  int64_t passed = 0;
  int64_t failed = 0;
};

// A worker whose CPU went above 90% during the run: its latencies are
// suspect (the generator, not the target, may have been the bottleneck).
struct CpuWarning {
  std::string worker_id;
  int64_t from_s = 0;
  int64_t to_s = 0;
  double max_percent = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_RUN_STATS_H_
