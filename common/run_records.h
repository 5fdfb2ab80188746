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

#include "common/json_record.h"

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
