// The run's state machine: its states, their names (REST and the store),
// which states are final, the final state each end reason implies, and the
// transitions a run may take.
//
//   queued   -> waiting | starting | final (placed, or cancelled)
//   waiting  -> queued | starting | final (expect_workers met, or ended)
//   starting -> waiting | starting | running | stopping | final
//   running  -> stopping | final
//   stopping -> stopping | final          (a second stop is a no-op)
//   final    -> nothing: finished, stopped, failed and interrupted never
//               change again (docs/rest-api.md)
//
// Run::SetState refuses an illegal transition (the state stays) and reports
// it to the illegal-transition handler: by default a log line; tests install
// one that fails the test (run_state_test.cc), so any code path that tries
// one is a test failure. Pure functions; the handler is process-wide and set
// before threads start.
#ifndef LOADD_DAEMON_COORDINATOR_RUN_STATE_H_
#define LOADD_DAEMON_COORDINATOR_RUN_STATE_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/run_end.h"

namespace loadd {

// kWaiting: for expect_workers; kStarting: assigned, load not begun yet.
// kInterrupted: the coordinator died while the run was active; set when a
// restarted coordinator loads it (docs/rest-api.md). kQueued: the workers it
// asks for are busy; it waits in the run queue (last, so the stored numbers
// of the older states never change).
enum class RunState {
  kWaiting,
  kStarting,
  kRunning,
  kStopping,
  kFinished,
  kStopped,
  kFailed,
  kInterrupted,
  kQueued
};
inline constexpr RunState kLastRunState = RunState::kQueued;
const char* RunStateName(RunState state);
std::optional<RunState> RunStateFromName(std::string_view name);
// Every state's name, in order: "waiting, starting, ...".
std::string RunStateNameList();
inline bool IsFinal(RunState s) {
  return s == RunState::kFinished || s == RunState::kStopped || s == RunState::kFailed ||
         s == RunState::kInterrupted;
}
// The final state a run ends in for a reason (common/run_end.h).
RunState StateOf(EndReason reason);

bool IsLegalTransition(RunState from, RunState to);

using IllegalTransitionHandler = void (*)(RunState from, RunState to);
// Installs h (nullptr: the default, which logs) and returns the previous one.
IllegalTransitionHandler SetIllegalTransitionHandler(IllegalTransitionHandler h);
// Calls the installed handler.
void ReportIllegalTransition(RunState from, RunState to);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_RUN_STATE_H_
