// Run: one test run as the coordinator keeps it: plan, state, the workers
// that carry it, and statistics merged from every worker's stats messages.
//
// Statistics are exact: cumulative per-endpoint HdrHistograms are merged
// from the workers' interval histograms, and the per-second timeline is
// keyed by the coordinator's clock (arrival time), never by worker clocks.
// Each endpoint's latency per second is also kept, encoded, for the
// HdrHistogram interval log (hlog.h). Check counts are summed by name. At the
// end the plan's thresholds are evaluated on the fleet-wide totals
// (docs/thresholds.md), and the run records why it ended, as data
// (end_reason; run_verdict.cc).
//
// A run is persisted through Snapshot() and rebuilt by Restore()
// (run_persist.cc): a restored run renders the same JSON and interval log as
// the run it was saved from.
//
// The parts, each with its own contract: the state machine (run_state.h:
// an illegal transition is refused), the statistics as data (run_stats.h),
// the stats merge and per-second timeline (stats_merger.h), the pure
// threshold evaluator (run_thresholds.h), the REST views (run_views.cc), the
// store codec (run_persist.cc) and the records written in several documents
// from one description (run_worker.h, common/run_records.h). Run is their
// owner and what the coordinator talks to: it orchestrates (run.cc).
// Not thread-safe; the Coordinator holds its lock around every call.
#ifndef LOADD_DAEMON_COORDINATOR_RUN_H_
#define LOADD_DAEMON_COORDINATOR_RUN_H_

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/plan.h"
#include "common/run_end.h"
#include "common/run_records.h"
#include "common/wire.h"
#include "daemon/coordinator/hlog.h"
#include "daemon/coordinator/run_state.h"
#include "daemon/coordinator/run_stats.h"
#include "daemon/coordinator/run_thresholds.h"
#include "daemon/coordinator/run_worker.h"
#include "daemon/coordinator/stats_merger.h"

namespace loadd {

struct RunMetrics;  // metrics.h
class FieldReader;  // stored_fields.h

// One closed second of the timeline (common/run_records.h).
using SecondSummary = RunSecond;

// A run as the run store keeps it (run_persist.cc).
struct RunSnapshot {
  std::string state;                 // everything but the closed seconds (JSON)
  std::vector<std::string> seconds;  // closed seconds from first_second on, one each
  std::string summary;               // WriteSummary's JSON
};

// The few fields of a stored state needed to list it, read without
// decoding any histogram.
struct StoredRunHeader {
  std::string id;
  std::string summary;  // WriteSummary's JSON, verbatim
  RunState state = RunState::kFinished;
  int64_t created_epoch_ns = 0;
  // Its plan holds secrets (stored before they were redacted, redact.h).
  bool plan_has_secrets = false;
};

class Run {
 public:
  static constexpr size_t kMaxEndpoints = StatsMerger::kMaxEndpoints;
  static constexpr size_t kMaxChecks = StatsMerger::kMaxChecks;

  // created_epoch_ns: wall clock at creation (ns since the Unix epoch).
  // initial: kStarting, or kQueued for a run that enters the run queue.
  Run(std::string id, Plan plan, int64_t created_ns, int64_t start_ns,
      int64_t created_epoch_ns, RunState initial = RunState::kStarting);

  const std::string& id() const { return id_; }
  const Plan& plan() const { return plan_; }
  // Live scaling: the load profile the workers follow (the plan's, changed
  // by every scale event), the changes made, and the user indices a
  // closed-model run can reach (the plan's users, or more once scaled up).
  static constexpr size_t kMaxEvents = 100;
  const LoadProfile& profile() const { return profile_; }
  const std::vector<RunEvent>& events() const { return events_; }
  int64_t UserBound() const { return std::max(plan_.users, profile_.UserBound()); }
  // Records a scale event and moves profile() to its line: from run time
  // event.at_ms to event.to at event.ramp_rate per second.
  void AddScale(RunEvent event);
  RunState state() const { return state_; }
  int64_t start_ns() const { return start_ns_; }
  int64_t created_ns() const { return created_ns_; }
  // Its workers, for reading. The coordinator changes who carries the run
  // only through the named calls below (AddWorker, MarkWorkerLost); the
  // shares of the workers it holds through CarryingWorkers() and
  // LostWithShare() (coordinator_shares.cc).
  const std::vector<RunWorker>& workers() const { return workers_; }
  // For tests that build a run by hand (run_persist_test.cc).
  std::vector<RunWorker>& mutable_workers_for_test() { return workers_; }
  // Adds a worker to the run; returns its slot (index in workers()).
  size_t AddWorker(RunWorker worker);
  // The worker at slot i, or null.
  RunWorker* WorkerAt(size_t i) { return i < workers_.size() ? &workers_[i] : nullptr; }
  // Workers that still carry load (neither lost nor final), in slot order.
  std::vector<RunWorker*> CarryingWorkers();
  // Lost workers whose share is not dealt out yet.
  std::vector<RunWorker*> LostWithShare();
  // The carrying worker on `pipe` is lost at now_ns: no users, and its
  // share to be dealt out by the caller. Returns it (empty: none was).
  std::vector<RunWorker*> MarkWorkerLost(uint32_t pipe, int64_t now_ns);
  // Whether the worker ever carried part of this run.
  bool HadWorker(const std::string& worker_id) const;
  // The 1-based place in the run queue (run_queue.h) while queued or
  // waiting, shown as queue_position; 0 otherwise.
  int64_t queue_position() const { return queue_position_; }
  void set_queue_position(int64_t position) { queue_position_ = position; }
  const std::string& message() const { return message_; }
  // Run time now, in ms (negative before the start).
  int64_t RunTimeMs(int64_t now_ns) const { return (now_ns - start_ns_) / 1'000'000; }
  void set_start_ns(int64_t start_ns) { start_ns_ = start_ns; }
  int64_t stop_requested_ns() const { return stop_requested_ns_; }
  void set_stop_requested_ns(int64_t ns) { stop_requested_ns_ = ns; }
  RunWorker* Find(const std::string& worker_id);
  void NoteCpu(const std::string& worker_id, double percent, int64_t now_ns);

  // A final state closes the timeline and evaluates the thresholds. A final
  // state set here rather than by End() gets the reason its data implies
  // (DerivedEndReason). An illegal transition (run_state.h) is refused and
  // reported: the state stays, false is returned.
  bool SetState(RunState state, int64_t now_ns, std::string message = "");
  // Ends the run for `reason`, in the state that reason implies. The
  // message is for people; verdicts read end_reason() (docs/rest-api.md).
  void End(EndReason reason, int64_t now_ns, std::string message = "");
  // nullopt until the run is final.
  std::optional<EndReason> end_reason() const { return end_reason_; }
  // Whether a worker's final stats arrived (pending while the run goes on).
  FinalStats FinalStatsOf(const RunWorker& worker) const;
  // Merges one worker's stats message arriving at now_ns.
  void AddStats(RunWorker* worker, const StatsMsg& stats, int64_t now_ns);
  // Closes every timeline second that can no longer receive data.
  void CloseSeconds(int64_t now_ns, bool all);
  bool AllWorkersDone() const;
  int64_t ActiveUsers() const;

  // Abort on fail: evaluates every abort_on_fail threshold whose delay has
  // passed on the data so far. The first that fails on a measured value
  // moves a running run to kStopping with a message naming it, and true is
  // returned: the caller stops the workers. Missing data (no requests yet, a
  // step not seen yet) never aborts.
  bool AbortOnThresholds(int64_t now_ns);
  bool aborted() const { return aborted_index_.has_value(); }
  // Valid once the run is final: every threshold passed and none aborted the
  // run (true when the plan has none).
  bool ThresholdsPassed() const;

  // The HdrHistogram interval log of the closed seconds (hlog.h).
  std::string Hlog() const;

  int64_t total_requests() const { return stats_.AggregatedCounts().requests; }
  // Every endpoint's totals summed (StatsMerger::Aggregated).
  const EndpointTotals& Aggregated() const { return stats_.Aggregated(); }
  int64_t total_failures() const { return stats_.AggregatedCounts().failures; }

  void WriteSummary(JsonWriter* w) const;  // for GET /v1/runs
  // GET /v1/runs/{id}: the timeline's seconds t >= since_s only (a page
  // that has the earlier ones asks for the new ones).
  void WriteFull(JsonWriter* w, bool timeline, int64_t now_ns, int64_t since_s = 0) const;
  RunMetrics Metrics(int64_t now_ns) const;  // GET /metrics (metrics_collect.cc)
  int64_t created_epoch_ns() const { return created_epoch_ns_; }
  // The name of the token that started the run ("" when unknown).
  const std::string& started_by() const { return started_by_; }
  void set_started_by(std::string name) { started_by_ = std::move(name); }

  // Persistence (run_persist.cc). version() changes with anything a
  // snapshot holds; whoever changes the run from outside (its workers())
  // calls Touch().
  uint64_t version() const { return version_; }
  void Touch() { ++version_; }
  size_t closed_seconds() const { return stats_.timeline().size(); }
  // The run at now_ns, with the closed seconds from first_second on.
  RunSnapshot Snapshot(size_t first_second, int64_t now_ns) const;
  // Rebuilds a run from a snapshot's state and every closed second it
  // recorded. The snapshot's time maps to now_ns of this process's clock.
  // A damaged or foreign document gives InvalidArgument naming the field.
  static Result<std::unique_ptr<Run>> Restore(std::string_view state,
                                              const std::vector<std::string>& seconds,
                                              int64_t now_ns);
  static Result<StoredRunHeader> ReadHeader(std::string_view state);
  // Ends a restored run that was active when its coordinator died, at
  // at_ns (the snapshot's time): state interrupted, data kept.
  void Interrupt(int64_t at_ns);

 private:
  double ElapsedSeconds(int64_t now_ns) const;
  // The data the threshold evaluator reads (run_thresholds.h), at now_ns.
  ThresholdData ThresholdDataAt(int64_t now_ns) const;
  // Every threshold's verdict on the data so far (the aborting one keeps the
  // verdict it aborted on).
  std::vector<ThresholdResult> EvaluateAll(int64_t now_ns) const;
  void WriteThresholds(JsonWriter* w, int64_t now_ns) const;
  void WriteThresholdsPassed(JsonWriter* w) const;  // null until the run is final
  // checks[]: the same shape in REST and the store (CheckRecord).
  void WriteChecks(JsonWriter* w, JsonDoc doc) const;
  // events[]: the run's changes (live scaling), REST's and the store's alike.
  void WriteEvents(JsonWriter* w, JsonDoc doc) const;
  // The plan as every view shows it: its secrets redacted (common/redact.h).
  const std::string& RedactedPlan() const;

  // A snapshot's encoded histograms, kept while their totals do not change.
  struct EncodedTotals {
    bool valid = false;
    uint64_t version = 0;
    std::string latency, service;  // base64
  };
  Run() = default;  // for Restore
  // The reason a final state implies, for a run ended without one (stored
  // by a coordinator from before end_reason): finished is completed;
  // stopped is aborted_by_threshold when a threshold aborted it, else
  // stopped; failed is no_workers when no worker was ever given a share,
  // else all_workers_lost; interrupted is interrupted.
  EndReason DerivedEndReason() const;
  // Restore: the stored end_reason, or the derived one when it is absent.
  void ReadEndReason(FieldReader* r, const rapidjson::Value& doc);
  void WriteEnd(JsonWriter* w) const;  // end_reason and aborted_by
  // The REST fields of a worker that depend on the run (RunWorkerHook).
  void WriteWorkerHook(JsonWriter* w, const RunWorker& rw, int hook,
                       const char* name) const;
  void WriteTotals(JsonWriter* w, const EndpointTotals& e, EncodedTotals* cache) const;

  std::string id_;
  Plan plan_;                          // with its secrets: never written out
  mutable std::string redacted_plan_;  // RedactedPlan(), made on first use
  int64_t created_epoch_ns_ = 0;       // wall clock at creation
  std::string started_by_;             // the token's name (tokens.h)
  int64_t created_ns_ = 0;
  int64_t start_ns_ = 0;
  int64_t end_ns_ = 0;
  int64_t stop_requested_ns_ = 0;
  RunState state_ = RunState::kStarting;
  std::optional<EndReason> end_reason_;  // set when the state becomes final
  std::string message_;
  std::vector<RunWorker> workers_;
  int64_t queue_position_ = 0;
  LoadProfile profile_ = LoadProfile({});
  std::vector<RunEvent> events_;
  StatsMerger stats_;  // endpoints, checks, dropped, the timeline
  std::vector<CpuWarning> cpu_warnings_;
  std::vector<ThresholdResult> results_;  // set when the run ends
  std::optional<size_t> aborted_index_;   // the threshold that aborted the run
  ThresholdResult aborted_result_;        // its verdict when it did
  uint64_t version_ = 0;
  mutable std::vector<EncodedTotals> encoded_;  // by endpoint index
  mutable EncodedTotals encoded_aggregated_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_RUN_H_
