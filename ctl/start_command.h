// `loadctl start`: resolve and validate the plan, create the run, watch it
// to its end and print the report.
#ifndef LOADD_CTL_START_COMMAND_H_
#define LOADD_CTL_START_COMMAND_H_

#include <string>

#include "common/clock.h"
#include "ctl/env.h"
#include "ctl/exit_code.h"

namespace loadd {

inline constexpr int64_t kPollIntervalNs = kNsPerSec;
// Polls in a row that may fail for want of an answer before giving up.
inline constexpr int kMaxPollFailures = 5;

// The run's verdict (VerdictOf): kSuccess when it finished with its
// thresholds passed (or --detach), kThresholdsFailed when they failed,
// kRunError when it ended "failed" or "stopped". The first interrupt
// (Ctrl-C) asks the coordinator to stop the run; the report of the stopped
// run still prints. --out and --junit are written whatever the verdict; a
// file that cannot be written is the command's error (exit 3).
Result<Outcome> RunStart(const Options& options, Env* env);

// Polls GET /v1/runs/{id}?timeline=0 every kPollIntervalNs until the state is
// final, printing a progress line per poll, or on a terminal the live view
// (ctl/live_view.h) redrawn in place.
Status WatchRun(ApiClient* api, const std::string& id, const Options& options, Env* env);

}  // namespace loadd

#endif  // LOADD_CTL_START_COMMAND_H_
