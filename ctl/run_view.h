// Typed views of the coordinator's JSON answers (docs/rest-api.md).
//
// The parsers are lenient about details, since the coordinator may add
// fields or omit zeros: a missing or mistyped field reads as zero or empty.
// Only an answer without the identifying fields (`id`, `state`, the list)
// is an error (kInternal: the coordinator said something unexpected).
#ifndef LOADD_CTL_RUN_VIEW_H_
#define LOADD_CTL_RUN_VIEW_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/labels.h"
#include "common/run_end.h"
#include "common/run_records.h"
#include "common/status.h"
#include "common/threshold.h"

namespace loadd {

// Latencies in microseconds.
struct LatencyView {
  double min_us = 0, mean_us = 0, p50_us = 0, p90_us = 0, p95_us = 0, p99_us = 0,
         p999_us = 0, max_us = 0;
};

// One row of the report: an endpoint, or all of them merged ("Aggregated").
struct EndpointView {
  std::string name;
  std::string method;  // "GET"; empty when the coordinator does not say
  int64_t requests = 0;
  int64_t failures = 0;
  double rps = 0;
  int64_t bytes_in = 0;  // bytes received over all responses, headers included
  // Open model: counted from each iteration's intended start (coordinated
  // omission corrected); closed model: from sending.
  LatencyView latency;
  bool has_service = false;  // the open model's `service` object was there
  LatencyView service;       // open model: from sending, uncorrected
};

// A worker that dropped out of the run (workers[].state "lost").
struct LostWorkerView {
  std::string id;
  double lost_at_s = 0;  // run time when the coordinator gave up on it
};

// One threshold's verdict (thresholds[]); the coordinator evaluates them.
// measured is false when `actual` was null (nothing to measure).
struct ThresholdView : ThresholdRecord {
  // The key parsed once, as the coordinator did (common/threshold.h);
  // nullopt for a key this loadctl does not know (a newer coordinator's).
  std::optional<ThresholdMeasure> measure;
};

// One check's counts over the run (checks[]).
using CheckView = CheckRecord;

// One second of the run (timeline[]), as the coordinator writes it.
using TimelineEntry = RunSecond;

// The run's verdict on its thresholds.
enum class ThresholdsVerdict {
  kNone,       // the coordinator said nothing (no thresholds_passed field)
  kUndecided,  // null: the run is still going
  kPassed,
  kFailed,
};

// GET /v1/runs/{id}.
struct RunView {
  std::string id, name, state, message, created_at;
  // Why the run ended (`end_reason`); nullopt while it runs, from a
  // coordinator that does not say, or for a reason this loadctl does not know
  // (then end_reason_unknown is true).
  std::optional<EndReason> end_reason;
  bool end_reason_unknown = false;
  std::string aborted_by;  // the key of the threshold that aborted it, if one did
  double elapsed_s = 0;
  double duration_s = 0;
  int64_t users = 0;         // started so far (open: in flight)
  int64_t target_users = 0;  // the plan's users
  int workers = 0;           // workers given a share, lost included
  int64_t requests = 0;      // totals.requests
  int64_t failures = 0;      // totals.failures
  int64_t dropped = 0;       // totals.dropped (open model)
  double rps = 0;            // totals.rps
  std::vector<std::pair<std::string, int64_t>> errors;  // by kind, non-zero only
  std::vector<EndpointView> endpoints;
  EndpointView aggregated;
  std::vector<LostWorkerView> lost_workers;
  // warnings[].message, oldest first. The coordinator only appends; an entry
  // is updated in place while its episode lasts, so an index names a warning.
  std::vector<std::string> warnings;
  std::vector<RunEvent> events;  // events[]: live scaling, oldest first
  bool has_timeline_entry = false;
  double last_timeline_rps = 0;         // rps of the newest timeline entry, if any
  std::vector<TimelineEntry> timeline;  // only when asked for (not ?timeline=0)
  std::vector<ThresholdView> thresholds;
  ThresholdsVerdict thresholds_verdict = ThresholdsVerdict::kNone;
  std::vector<CheckView> checks;
  // From the run's plan:
  bool open_model = false;     // arrival_rate, or stages of rate
  double arrival_rate = 0;     // open: arrivals per second (stages: their peak)
  int64_t max_in_flight = 0;   // open: the fleet-wide cap
  int64_t expect_workers = 0;  // the run is "waiting" until this many are live
  int64_t queue_position = 0;  // 1-based while "queued" (the run queue); else 0
};

// One row of GET /v1/runs: RunSummary (common/run_records.h).

// One row of GET /v1/workers: FleetWorkerRow (common/run_records.h). Label
// entries that break the label rules (an older or a garbled coordinator)
// are left out, so no escape reaches a terminal.
using WorkerView = FleetWorkerRow;

// "finished", "stopped", "failed" and "interrupted" (its coordinator died
// while it ran) never change again. A run may be "waiting" (for
// expect_workers) before "starting".
bool IsFinalState(std::string_view state);

Status ParseRunView(const rapidjson::Value& json, RunView* run);
// Newest first, as the coordinator lists them.
Status ParseRunList(const rapidjson::Value& json, std::vector<RunSummary>* runs);
Status ParseWorkerList(const rapidjson::Value& json, std::vector<WorkerView>* workers);

}  // namespace loadd

#endif  // LOADD_CTL_RUN_VIEW_H_
