// RunStats: a worker's counters and latency histograms for one run, per
// endpoint name, for the current one-second interval.
//
// Loop-thread only. Recording is O(1) with no allocation; Drain() hands the
// interval's deltas to a stats message and starts a new interval, so the
// coordinator can merge exact histograms by second.
#ifndef LOADD_DAEMON_WORKER_RUN_STATS_H_
#define LOADD_DAEMON_WORKER_RUN_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/wire.h"

namespace loadd {

class RunStats {
 public:
  // One slot per distinct name; SlotOf() maps a request index to its slot.
  explicit RunStats(const std::vector<std::string>& request_names);

  int SlotOf(size_t request_index) const { return slot_of_request_[request_index]; }

  // A complete response. status >= 400 also counts as a failure (kStatus).
  // service_us < 0: closed model, latency is the service time.
  void RecordResponse(int slot, int64_t latency_us, int64_t service_us, int status,
                      int64_t bytes_in);
  // A request that got no complete response.
  void RecordError(int slot, ErrorKind kind);

  // Appends the interval's non-empty endpoints to out and resets the interval.
  void Drain(std::vector<EndpointStats>* out);

  // Checks: registered once before the run (ids are dense), counted per
  // interval, drained with the endpoints.
  int AddCheck(const std::string& name);
  void RecordCheck(int id, bool passed) {
    (passed ? checks_[id].passed : checks_[id].failed)++;
  }
  void DrainChecks(std::vector<CheckCount>* out);

  // Open model: an arrival skipped because max_in_flight was reached.
  void RecordDropped() { ++dropped_; }
  int64_t TakeDropped() {
    int64_t d = dropped_;
    dropped_ = 0;
    return d;
  }

  int64_t total_requests() const { return total_requests_; }

 private:
  std::vector<int> slot_of_request_;
  std::vector<EndpointStats> interval_;
  int64_t total_requests_ = 0;
  int64_t dropped_ = 0;
  std::vector<CheckCount> checks_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_RUN_STATS_H_
