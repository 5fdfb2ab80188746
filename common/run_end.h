// How a run ended, as data: the coordinator writes it into the run JSON
// (`end_reason`, `workers[].final_stats`) and its store, and loadctl's
// verdict reads it (ctl/verdict.h). Verdicts never parse the run's message.
#ifndef LOADD_COMMON_RUN_END_H_
#define LOADD_COMMON_RUN_END_H_

#include <optional>
#include <string_view>

namespace loadd {

// Why a run reached its final state (docs/rest-api.md). The state follows
// from the reason.
enum class EndReason {
  kCompleted,           // "finished": it ran its duration (or every worker ended)
  kStopped,             // "stopped": POST /v1/runs/{id}/stop (loadctl stop, Ctrl-C)
  kAbortedByThreshold,  // "stopped": a threshold with abort_on_fail failed
  kNoWorkers,           // "failed": expect_workers did not register in expect_timeout
  kAllWorkersLost,      // "failed": every worker of the run was lost
  kInterrupted,         // "interrupted": the coordinator died while the run was active
};
inline constexpr int kEndReasonCount = 6;

// "completed", "stopped", "aborted_by_threshold", "no_workers",
// "all_workers_lost", "interrupted".
const char* EndReasonName(EndReason reason);
// nullopt for any other name (a newer coordinator's, or garbage).
std::optional<EndReason> EndReasonFromName(std::string_view name);

// Whether the coordinator has a worker's final stats message for the run.
enum class FinalStats {
  kPending,   // "pending": the run is still going
  kReceived,  // "received": every request it made is counted
  kMissing,   // "missing": the run ended without them (the worker was silent)
  kLost,      // "lost": the worker was lost during the run; its share moved
};
const char* FinalStatsName(FinalStats status);

}  // namespace loadd

#endif  // LOADD_COMMON_RUN_END_H_
