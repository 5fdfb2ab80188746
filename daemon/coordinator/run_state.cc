#include "daemon/coordinator/run_state.h"

#include "common/log.h"

namespace loadd {
namespace {

void LogIllegalTransition(RunState from, RunState to) {
  LOG_ERROR("run state: illegal transition %s -> %s refused", RunStateName(from),
            RunStateName(to));
}

IllegalTransitionHandler g_handler = &LogIllegalTransition;

}  // namespace

const char* RunStateName(RunState state) {
  static constexpr const char* kNames[] = {"waiting",  "starting",    "running",
                                           "stopping", "finished",    "stopped",
                                           "failed",   "interrupted", "queued"};
  return kNames[static_cast<int>(state)];
}

std::optional<RunState> RunStateFromName(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(kLastRunState); ++i) {
    if (name == RunStateName(static_cast<RunState>(i))) return static_cast<RunState>(i);
  }
  return std::nullopt;
}

std::string RunStateNameList() {
  std::string names;
  for (int i = 0; i <= static_cast<int>(RunState::kInterrupted); ++i) {
    names += (i == 0 ? "" : ", ") + std::string(RunStateName(static_cast<RunState>(i)));
  }
  return names;
}

RunState StateOf(EndReason reason) {
  switch (reason) {
    case EndReason::kCompleted:
      return RunState::kFinished;
    case EndReason::kStopped:
    case EndReason::kAbortedByThreshold:
      return RunState::kStopped;
    case EndReason::kNoWorkers:
    case EndReason::kAllWorkersLost:
      return RunState::kFailed;
    case EndReason::kInterrupted:
      return RunState::kInterrupted;
  }
  return RunState::kFailed;
}

bool IsLegalTransition(RunState from, RunState to) {
  if (IsFinal(from)) return false;
  if (IsFinal(to)) return true;
  switch (from) {
    case RunState::kQueued:
      return to == RunState::kWaiting || to == RunState::kStarting;
    case RunState::kWaiting:
      return to == RunState::kStarting || to == RunState::kQueued;
    case RunState::kStarting:
      return true;  // to waiting, starting, running or stopping
    case RunState::kRunning:
      return to == RunState::kStopping;
    case RunState::kStopping:
      return to == RunState::kStopping;
    default:
      return false;
  }
}

IllegalTransitionHandler SetIllegalTransitionHandler(IllegalTransitionHandler h) {
  IllegalTransitionHandler old = g_handler;
  g_handler = h != nullptr ? h : &LogIllegalTransition;
  return old;
}

void ReportIllegalTransition(RunState from, RunState to) { g_handler(from, to); }

}  // namespace loadd
