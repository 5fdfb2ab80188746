// A run's verdict: how `loadctl start` ends (exit_code.h) and how the
// thresholds and checks read, from the final GET /v1/runs/{id}.
#ifndef LOADD_CTL_VERDICT_H_
#define LOADD_CTL_VERDICT_H_

#include <cstdint>
#include <string>

#include "ctl/exit_code.h"
#include "ctl/run_view.h"

namespace loadd {

// Read from structured fields only, never from the message:
// kSuccess: end_reason "completed" and thresholds passed (or the coordinator
// gave no verdict). kThresholdsFailed: "completed" with thresholds failed,
// or "aborted_by_threshold" (a threshold with abort_on_fail stopped it,
// whatever else the message says about silent or lost workers). kRunError:
// any other reason (stopped, no_workers, all_workers_lost, interrupted, one
// this loadctl does not know), or the run has not ended. Without an
// end_reason (a coordinator from before it), state "finished" decides by
// the thresholds and every other state is kRunError.
Outcome VerdictOf(const RunView& run);

// The failed thresholds for one line: "http.p95 <250ms (actual 312ms),
// checks.pass_rate >99% (no checks ran)".
std::string FailedThresholds(const RunView& run);

// A threshold's measured value in the unit of its metric (the key's last
// part): "20.8ms" for latencies, "3.00%" for error_rate and pass_rate,
// "1902.4/s" for rps; "-" when nothing was measured.
std::string FormatThresholdActual(const ThresholdView& threshold);

// passed / (passed + failed) as "99.70%"; "-" when none ran.
std::string FormatPassRate(int64_t passed, int64_t failed);

}  // namespace loadd

#endif  // LOADD_CTL_VERDICT_H_
