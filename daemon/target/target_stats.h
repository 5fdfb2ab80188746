// Counters of `loadd target`, served as JSON at /__stats.
//
// Request counters are sharded: each loop thread owns one Shard and is its
// only writer (plain relaxed load+store, no locked instructions on the hot
// path); readers sum the shards. Reset() does not write the shards: it
// records the current sums as a baseline that snapshots subtract, so a reset
// racing with a count loses nothing.
#ifndef LOADD_DAEMON_TARGET_TARGET_STATS_H_
#define LOADD_DAEMON_TARGET_TARGET_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/hdr_histogram.h"
#include "common/mutex.h"

namespace loadd {

// Percentiles of the target's own service time, in microseconds: from the
// moment a request was read whole to the moment its response's last byte was
// handed to the kernel (so an injected delay, and any lateness of the
// target's timers, are in it).
struct TargetLatency {
  int64_t count = 0;
  int64_t p50 = 0, p90 = 0, p99 = 0, p99_9 = 0, max = 0;
};

struct TargetStatsSnapshot {
  uint64_t requests = 0;              // responses fully written
  std::map<int, uint64_t> by_status;  // non-zero entries only
  uint64_t connections_accepted = 0;
  int64_t connections_open = 0;  // a gauge: Reset() leaves it alone
  // Wall clock (ms since the Unix epoch) when the last counted request
  // arrived; 0 before any. Reset() leaves it alone too.
  int64_t last_request_unix_ms = 0;
  TargetLatency latency_us;  // of the counted responses

  // {"requests": R, "by_status": {"200": n, ...}, "connections_accepted": c,
  //  "connections_open": o, "last_request_unix_ms": t,
  //  "latency_us": {"count": n, "p50": .., "p90": .., "p99": .., "p99_9": .., "max": ..}}
  std::string ToJson() const;
};

class TargetStats {
 public:
  static constexpr int kStatusSlots = 600;  // valid status codes are below

  class alignas(64) Shard {
   public:
    // Counts one response fully handed to the kernel, service_us after its
    // request was read (-1: not timed). Owner thread only; the histogram's
    // lock is only ever contended by a /__stats reader.
    void CountResponse(int status, int64_t service_us = -1) {
      Bump(&requests_);
      if (status >= 0 && status < kStatusSlots) Bump(&by_status_[status]);
      if (service_us >= 0) {
        MutexLock lock(&latency_mu_);
        latency_.Record(service_us);
      }
    }
    // Notes the arrival of a request that will be counted, at now_ns
    // (MonotonicNowNs). Owner thread only.
    void NoteRequest(int64_t now_ns) {
      last_request_ns_.store(now_ns, std::memory_order_relaxed);
    }

   private:
    friend class TargetStats;
    static void Bump(std::atomic<uint64_t>* counter) {
      counter->store(counter->load(std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
    }
    std::atomic<uint64_t> requests_{0};
    std::atomic<int64_t> last_request_ns_{0};  // monotonic; 0: none yet
    std::array<std::atomic<uint64_t>, kStatusSlots> by_status_{};
    Mutex latency_mu_;
    HdrHistogram latency_ GUARDED_BY(latency_mu_) = HdrHistogram::ForLatencyMicros();
  };

  explicit TargetStats(int shard_count);
  TargetStats(const TargetStats&) = delete;
  TargetStats& operator=(const TargetStats&) = delete;

  // 0 <= index < shard_count; valid as long as this object.
  Shard* shard(int index) { return shards_[index].get(); }

  // Connection gauges; any thread.
  void OnAccept();
  void OnClose();
  int64_t connections_open() const { return open_.load(std::memory_order_relaxed); }

  // Thread-safe. The monotonic times are turned into wall clock with the
  // two clocks read now (monotonic_now_ns, wall_now_ms); 0 means read them.
  TargetStatsSnapshot Snapshot(int64_t monotonic_now_ns = 0,
                               int64_t wall_now_ms = 0) const;
  // Zeroes requests, by_status, connections_accepted and the latency
  // histogram. Thread-safe.
  void Reset();

 private:
  struct Totals {
    uint64_t requests = 0;
    uint64_t accepted = 0;
    std::array<uint64_t, kStatusSlots> by_status{};
  };
  Totals Sum() const;

  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<int64_t> open_{0};
  mutable Mutex mu_;
  Totals baseline_ GUARDED_BY(mu_);
};

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_STATS_H_
