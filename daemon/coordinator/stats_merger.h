// StatsMerger: a run's statistics merged from its workers' stats messages,
// and its per-second timeline.
//
// What it owns: per-endpoint totals with cumulative HdrHistograms (at most
// kMaxEndpoints names; past it, "other"), their aggregate, check counts by
// name (at most kMaxChecks; past it, "other"), dropped arrivals, the open
// seconds, and the closed timeline with its HdrHistogram interval log
// (hlog.h). It knows nothing of workers' shares, run states or thresholds:
// Run (run.h) owns one and orchestrates.
//
// Time: every call takes the run time of the moment it describes, in ns
// (the coordinator's monotonic clock at arrival minus the run's start);
// nothing here reads a clock, never a worker's clock either.
//
// Seconds: a message arriving at run time T that covers `interval_ms` is
// filed under the second holding T - interval/2 (the middle of the span it
// covers, which absorbs up to half an interval of delivery jitter), or the
// first open second if that one is already closed.
//
// A closed second: second s closes when CloseSeconds is called at a run time
// of at least (s + 1) s + kCloseLagNs + 100 ms (no message for it can still
// be on its way), or by CloseSeconds(all). Seconds close in order. A closed
// second is final: its summary (RunSecond) and its interval-log lines never
// change, it is never reopened, and a late message lands in the first open
// second instead. So the timeline is in order of t, and a reader that has
// seconds up to t only ever needs the ones after.
//
// Thread rules: not thread-safe, not even the const calls (Aggregated()
// fills a cache). The owner serialises every call (the Coordinator's lock
// around Run).
#ifndef LOADD_DAEMON_COORDINATOR_STATS_MERGER_H_
#define LOADD_DAEMON_COORDINATOR_STATS_MERGER_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/hdr_histogram.h"
#include "common/json.h"
#include "common/run_records.h"
#include "common/status.h"
#include "common/wire.h"
#include "daemon/coordinator/hlog.h"
#include "daemon/coordinator/run_stats.h"

namespace loadd {

class FieldReader;  // stored_fields.h

class StatsMerger {
 public:
  // Caps the distinct endpoint names; past it, stats go to "other".
  static constexpr size_t kMaxEndpoints = 1000;
  // Caps the distinct check names; past it, counts go to "other".
  static constexpr size_t kMaxChecks = 1000;
  // How long after its end a second may still receive data.
  static constexpr int64_t kCloseLagNs = 500'000'000;

  StatsMerger();

  // Merges worker_id's message arriving at run time run_ns: the endpoint
  // totals, checks, dropped, and its second's counts, latency by endpoint
  // and the worker's users gauge (the last one it sent in that second; a
  // final message's gauge counts only if the worker sent none there yet,
  // since it reports the users left after its share ended).
  void Add(const std::string& worker_id, const StatsMsg& stats, int64_t run_ns);
  // Closes, in order, every open second that can no longer receive data at
  // run time run_ns (all: every open second). Returns how many closed.
  size_t CloseSeconds(int64_t run_ns, bool all);

  // The closed seconds, in order of t.
  const std::vector<RunSecond>& timeline() const { return timeline_; }
  // The closed seconds' latency by endpoint (tags: endpoint names).
  const IntervalLog& hlog() const { return hlog_; }
  size_t open_seconds() const { return open_seconds_.size(); }

  const std::vector<EndpointTotals>& endpoints() const { return endpoints_; }
  // Endpoint name -> index in endpoints().
  const std::map<std::string, size_t>& endpoint_index() const { return endpoint_index_; }
  // Every endpoint's totals summed, histograms included. The histograms are
  // summed when read after a change rather than merged with each message
  // (10,000 workers send 10,000 messages a second).
  const EndpointTotals& Aggregated() const;
  // The same counters without summing histograms (their histograms may lag:
  // read those through Aggregated()).
  const EndpointTotals& AggregatedCounts() const { return aggregated_; }
  const std::map<std::string, CheckTotals>& checks() const { return checks_; }
  int64_t dropped() const { return dropped_; }

  // The run store's codec of these parts (run_persist.cc; the store's shapes
  // are documented there). WriteOpenSeconds writes the "open_seconds"
  // member; WriteSecond the record of closed second i.
  void WriteOpenSeconds(JsonWriter* w) const;
  void WriteSecond(JsonWriter* w, size_t i) const;
  // Reads the merger's members of a stored state document (endpoints,
  // aggregated, checks, dropped, open_seconds, hlog_dropped) and its closed
  // seconds, one record each, into this empty merger. Problems go to *r
  // (the first sticks) or are returned.
  Status Restore(FieldReader* r, const rapidjson::Value& doc,
                 const std::vector<std::string>& seconds);

 private:
  struct OpenSecond {
    int64_t requests = 0;
    int64_t failures = 0;
    int64_t dropped = 0;
    std::map<std::string, int64_t> users;  // worker -> last gauge in this second
    // Decoded only while the second is open (at most ~2 at a time); encoded
    // into hlog_ when it closes.
    std::map<size_t, HdrHistogram> endpoint_latency_us;  // by index in endpoints_
  };
  // The second's latency over every endpoint (the sum of endpoint_latency_us,
  // made when needed rather than merged with each stats message).
  static HdrHistogram SecondLatency(const OpenSecond& s);
  int64_t SecondOf(int64_t run_ns, int64_t interval_ms) const;
  size_t EndpointIndex(const std::string& name);
  void AddChecks(const std::vector<CheckCount>& checks);
  Status RestoreSecond(std::string_view record, size_t i);
  void RestoreOpenSeconds(FieldReader* r, const rapidjson::Value& doc);

  std::vector<EndpointTotals> endpoints_;
  std::map<std::string, size_t> endpoint_index_;
  // Counters kept with every message; histograms summed by Aggregated()
  // when merges_ moved past aggregated_merges_.
  mutable EndpointTotals aggregated_;
  uint64_t merges_ = 0;
  mutable uint64_t aggregated_merges_ = 0;
  std::map<std::string, CheckTotals> checks_;
  int64_t dropped_ = 0;
  std::map<int64_t, OpenSecond> open_seconds_;  // by t
  std::vector<RunSecond> timeline_;
  std::vector<size_t> hlog_end_;  // hlog_.intervals() once timeline_[i] closed
  IntervalLog hlog_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_STATS_MERGER_H_
