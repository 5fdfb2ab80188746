// The run's state machine (run_state.h). This file also makes every illegal
// transition a test failure for the whole coordinator_test binary: the
// environment below installs a handler that fails the running test.
#include "daemon/coordinator/run_state.h"

#include <gtest/gtest.h>

#include "common/plan.h"
#include "daemon/coordinator/run.h"

namespace loadd {
namespace {

void FailTheTest(RunState from, RunState to) {
  ADD_FAILURE() << "illegal run state transition " << RunStateName(from) << " -> "
                << RunStateName(to);
}

class FailOnIllegalTransitions : public ::testing::Environment {
 public:
  void SetUp() override { SetIllegalTransitionHandler(&FailTheTest); }
  void TearDown() override { SetIllegalTransitionHandler(nullptr); }
};
[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new FailOnIllegalTransitions);

constexpr RunState kAll[] = {
    RunState::kWaiting,  RunState::kStarting, RunState::kRunning, RunState::kStopping,
    RunState::kFinished, RunState::kStopped,  RunState::kFailed,  RunState::kInterrupted};

TEST(RunStateTest, TransitionTable) {
  // Rows: from; columns: to, in kAll's order. 1: legal.
  const int kLegal[8][8] = {
      {0, 1, 0, 0, 1, 1, 1, 1},  // waiting
      {1, 1, 1, 1, 1, 1, 1, 1},  // starting
      {0, 0, 0, 1, 1, 1, 1, 1},  // running
      {0, 0, 0, 1, 1, 1, 1, 1},  // stopping
      {0, 0, 0, 0, 0, 0, 0, 0},  // finished
      {0, 0, 0, 0, 0, 0, 0, 0},  // stopped
      {0, 0, 0, 0, 0, 0, 0, 0},  // failed
      {0, 0, 0, 0, 0, 0, 0, 0},  // interrupted
  };
  for (int from = 0; from < 8; ++from) {
    for (int to = 0; to < 8; ++to) {
      EXPECT_EQ(IsLegalTransition(kAll[from], kAll[to]), kLegal[from][to] == 1)
          << RunStateName(kAll[from]) << " -> " << RunStateName(kAll[to]);
    }
  }
}

TEST(RunStateTest, NamesRoundTrip) {
  for (RunState s : kAll) EXPECT_EQ(RunStateFromName(RunStateName(s)), s);
  EXPECT_EQ(RunStateFromName("paused"), std::nullopt);
}

TEST(RunStateTest, EveryEndReasonEndsInAFinalState) {
  for (EndReason r :
       {EndReason::kCompleted, EndReason::kStopped, EndReason::kAbortedByThreshold,
        EndReason::kNoWorkers, EndReason::kAllWorkersLost, EndReason::kInterrupted}) {
    EXPECT_TRUE(IsFinal(StateOf(r))) << EndReasonName(r);
  }
}

int g_reported = 0;
void Count(RunState, RunState) { ++g_reported; }

TEST(RunStateTest, RunRefusesAnIllegalTransitionAndKeepsItsEnd) {
  Result<Plan> plan =
      ParsePlan(R"({"target": "http://127.0.0.1:1", "users": 1, "duration": "1s"})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  loadd::Run run("r1-ab", *plan, 0, 0, 0);
  ASSERT_TRUE(run.SetState(RunState::kRunning, 1));
  run.End(EndReason::kStopped, 2, "stopped");
  ASSERT_EQ(run.state(), RunState::kStopped);
  IllegalTransitionHandler old = SetIllegalTransitionHandler(&Count);
  g_reported = 0;
  EXPECT_FALSE(run.SetState(RunState::kRunning, 3));
  run.End(EndReason::kCompleted, 4, "late");
  SetIllegalTransitionHandler(old);
  EXPECT_EQ(g_reported, 2);
  EXPECT_EQ(run.state(), RunState::kStopped);
  EXPECT_EQ(run.end_reason(), EndReason::kStopped);
  EXPECT_EQ(run.message(), "stopped");
}

}  // namespace
}  // namespace loadd
