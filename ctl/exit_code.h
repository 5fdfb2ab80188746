// How a loadctl command ends: its exit code and its error line.
//
// docs/loadctl.md documents the codes; CI pipelines gate on them, so they
// never change meaning.
#ifndef LOADD_CTL_EXIT_CODE_H_
#define LOADD_CTL_EXIT_CODE_H_

#include <string>

#include "common/status.h"

namespace loadd {

inline constexpr int kExitOk = 0;  // the command worked; a watched run finished
inline constexpr int kExitThresholdsFailed = 1;  // the run missed a threshold
inline constexpr int kExitRunError = 2;          // the watched run ended failed, stopped
                                                 // or interrupted
inline constexpr int kExitInvalidInput =
    3;  // bad flag, bad plan, unknown run, HTTP 400/404
inline constexpr int kExitUnavailable =
    4;  // coordinator unreachable, refused, or odd answer
inline constexpr int kExitFleetBusy =
    5;  // not queued: --no-queue and the run's workers are busy (409), or the
        // coordinator's run queue is full (429, --max-queued)

// What a command that worked reports about the run it watched (if any).
enum class Outcome {
  kSuccess,           // nothing to report, or the run reached "finished"
  kThresholdsFailed,  // the run finished (or was aborted) with thresholds failed
  kRunError,          // the run ended "failed", "stopped" (Ctrl-C included) or
                      // "interrupted" (its coordinator died)
};

// The one mapping from a command's result to the process exit code. An error
// Status decides by its code; a value decides by the Outcome.
int ExitCodeFor(const Result<Outcome>& result);

// The line printed to stderr for an error: "loadctl: <path>: <message>".
std::string FormatError(const Status& status);

}  // namespace loadd

#endif  // LOADD_CTL_EXIT_CODE_H_
