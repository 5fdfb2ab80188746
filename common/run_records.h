// The run's records that more than one JSON document carries, each described
// once (common/json_record.h): the coordinator's REST views write them, its
// run store writes and reads them, and loadctl parses them, all through the
// same table. The field names are the contract of docs/openapi.yaml (kApi)
// and of stored runs (kStore): renaming a row's name breaks one of them.
#ifndef LOADD_COMMON_RUN_RECORDS_H_
#define LOADD_COMMON_RUN_RECORDS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/hdr_histogram.h"
#include "common/json_record.h"
#include "common/labels.h"
#include "common/wire.h"

namespace loadd {

// One second of a run's timeline (REST timeline[], one stored second).
struct RunSecond {
  int64_t t = 0;  // seconds since the run started, coordinator clock
  int64_t users = 0;
  int64_t requests = 0;
  int64_t failures = 0;
  // Requests per second: a second's requests (REST only; the store does
  // not keep it, the coordinator sets it to `requests`).
  int64_t rps = 0;
  int64_t p50_us = 0, p95_us = 0, p99_us = 0, max_us = 0;
  int64_t dropped = 0;
  int64_t workers = 0;  // workers that reported in this second
};
std::span<const JsonField<RunSecond>> RunSecondFields();

// One row of GET /v1/runs (the store keeps the REST text verbatim).
struct RunSummary {
  std::string id, name, state, created_at;
  int64_t users = 0;  // the plan's
  double duration_s = 0;
  int64_t requests = 0;
  int64_t failures = 0;
  int64_t warnings = 0;                     // how many warnings the run carries
  std::optional<bool> thresholds_passed{};  // nullopt (null) until the run is final
  // The name of the token that started it ("" if none); last, so that
  // brace-initialised rows of older code keep their meaning.
  std::string started_by{};
  // The plan's labels (common/labels.h). Not a row of RunSummaryFields (a
  // map): written and read beside them, as "labels" (absent before run
  // labels: none).
  Labels labels{};
};
std::span<const JsonField<RunSummary>> RunSummaryFields();

// Why a run ended (common/run_end.h), as REST and the store carry it.
struct RunEndRecord {
  // EndReasonName; nullopt while the run goes on (REST null, store "").
  std::optional<std::string> end_reason;
  // The key of the threshold that aborted the run (REST only; null if none).
  std::optional<std::string> aborted_by;
};
std::span<const JsonField<RunEndRecord>> RunEndFields();

// One check's counts over the run (REST checks[], the store's checks[]:
// the same shape).
struct CheckRecord {
  std::string name;
  int64_t passed = 0;
  int64_t failed = 0;
};
std::span<const JsonField<CheckRecord>> CheckRecordFields();

// One threshold's verdict: REST thresholds[] (with the plan's key and
// condition) and the store's results[] and aborted_result (without them).
struct ThresholdRecord {
  std::string key;        // REST only: "http.p95", "step:/cart.p99", ...
  std::string condition;  // REST only: as the plan wrote it, "<250ms"
  bool measured = false;  // false: nothing to measure yet
  // Microseconds for latencies, a fraction for rates, 1/s for rps.
  double actual = 0;
  bool passed = false;
  std::string message;  // "actual 212ms meets <250ms", "no checks ran"
};
// REST's `actual`: null unless measured, rounded as its metric reads (the
// coordinator writes it, run_views.cc); a reader takes a number as measured.
enum ThresholdRecordHook { kThresholdActual };
std::span<const JsonField<ThresholdRecord>> ThresholdRecordFields();

// Error counts by kind name (ErrorKindName), in ErrorKind order; a reader
// keeps names it does not know (a newer coordinator's kinds).
using ErrorCountList = std::vector<std::pair<std::string, int64_t>>;
// An object of counts under `name`; zero counts only when `zeros`.
void WriteErrorCounts(JsonWriter* w, const char* name, const ErrorCounts& errors,
                      bool zeros);
// Every integer member of the object `name` (none if absent), leniently.
ErrorCountList ReadErrorCountList(const rapidjson::Value& object, const char* name);

// The run's totals over every endpoint (REST totals).
struct RunTotals {
  int64_t requests = 0;
  int64_t failures = 0;
  double rps = 0;
  int64_t dropped = 0;  // open model: arrivals skipped at max_in_flight
};
// errors: every kind, zeros included (WriteErrorCounts).
enum RunTotalsHook { kTotalsErrors };
std::span<const JsonField<RunTotals>> RunTotalsFields();

// A latency histogram's summary as REST writes it: an endpoint's latency
// (its fields flat in the endpoint object) and its service time (nested).
struct LatencySummary {
  int64_t min_us = 0;
  double mean_us = 0;
  int64_t p50_us = 0, p90_us = 0, p95_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};
// stddev_us: written for an endpoint's latency, not for its service time.
enum LatencySummaryHook { kLatencyStddev };
std::span<const JsonField<LatencySummary>> LatencySummaryFields();
LatencySummary LatencySummaryOf(const HdrHistogram& h);

// One endpoint's totals (REST endpoints[] and aggregated, the store's
// endpoints[] and aggregated). The histograms are hooks: REST writes their
// summaries (LatencySummary), the store their V2 encoding in base64.
struct EndpointRecord {
  std::string name;
  int64_t requests = 0;
  int64_t failures = 0;
  double rps = 0;  // REST only: requests over the elapsed run time
  int64_t bytes_in = 0;
};
enum EndpointRecordHook {
  // REST: the latency summary's fields, flat in the endpoint object (the
  // row's name is not written); store: "latency", the histogram.
  kEndpointLatency,
  // REST: the non-zero counts by kind; store: every kind (WriteErrorCounts).
  kEndpointErrors,
  // REST: the service-time summary, only when the open model measured one;
  // store: "service", the histogram.
  kEndpointService,
};
std::span<const JsonField<EndpointRecord>> EndpointRecordFields();

// One row of GET /v1/workers (the coordinator writes it, loadctl reads it).
// The first members in the order of loadctl's brace-initialised rows; the
// rest with default member initializers, so those rows keep their meaning.
// The JSON order is the table's.
struct FleetWorkerRow {
  std::string id, host;
  std::string state;  // idle, busy or lost
  int64_t cpu = 0;    // -1: not pinned to a CPU
  int64_t users = 0;
  double cpu_percent = 0;
  int64_t last_seen_ms = 0;  // since the coordinator last heard from it
  Labels labels;             // --label of the worker
  int64_t instance{};        // loadd@N
  int64_t cores{};           // online CPUs on its host
  std::string version{};
  int64_t pid{};
  std::string run_id{};  // the run it carries ("" when idle)
  double connected_s{};  // since it registered
};
// labels: an object of strings (WriteLabels); loadctl keeps only the
// entries the label rules allow.
enum FleetWorkerHook { kFleetWorkerLabels };
std::span<const JsonField<FleetWorkerRow>> FleetWorkerFields();
// One change made to a running run: live scaling (PATCH /v1/runs/{id},
// docs/load-models.md). REST's events[], the store's and loadctl's reports
// read and write it from RunEventFields().
struct RunEvent {
  std::string kind = "scale";
  std::string by;            // the name of the token that asked ("" if none)
  int64_t requested_ms = 0;  // run time of the request
  int64_t at_ms = 0;         // run time the change began on every worker
  std::string unit;          // "users" (closed model) or "rate" (arrivals/s)
  double from = 0;           // the level at at_ms
  double to = 0;             // the level asked for
  double ramp_rate = 0;      // per second, the plan's spawn or ramp rate; 0: a step
};
std::span<const JsonField<RunEvent>> RunEventFields();

}  // namespace loadd

#endif  // LOADD_COMMON_RUN_RECORDS_H_
