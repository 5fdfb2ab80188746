#include "ctl/verdict.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "ctl/test_runs.h"

namespace loadd {
namespace {

// The regression test of issue 15: Coordinator::MaybeFinish appends the
// silent (or lost) workers to the aborting threshold's message, and the
// verdict, read from that message's ending, gave exit code 2 (run error)
// instead of 1 (thresholds failed). The verdict now reads end_reason.
TEST(VerdictOfTest, AbortedByThresholdWhileAWorkerIsSilentExitsOne) {
  for (const char* workers :
       {"1 worker(s) sent no final stats", "1 worker(s) lost during the run"}) {
    std::string json = std::string(R"({"id": "r1", "state": "stopped",
        "message": "threshold http.p95 <250ms failed (actual 312.0ms); run aborted; )") +
                       workers + R"(",
        "end_reason": "aborted_by_threshold", "aborted_by": "http.p95",
        "workers": [{"id": "a/0", "state": "done", "final_stats": "received"},
                    {"id": "a/1", "state": "running", "final_stats": "missing"}],
        "thresholds": [{"key": "http.p95", "condition": "<250ms", "actual": 312000,
                        "passed": false, "message": "actual 312.0ms misses <250ms"}],
        "thresholds_passed": false})";
    RunView run = ParseTestRun(json.c_str());
    ASSERT_EQ(run.end_reason, EndReason::kAbortedByThreshold);
    EXPECT_EQ(run.aborted_by, "http.p95");
    EXPECT_EQ(VerdictOf(run), Outcome::kThresholdsFailed) << workers;
    EXPECT_EQ(ExitCodeFor(VerdictOf(run)), kExitThresholdsFailed) << workers;
  }
}

// Every way a run ends keeps the exit code docs/loadctl.md gives it, and the
// message never changes it.
TEST(VerdictOfTest, EndReasonAndThresholdsDecide) {
  constexpr char kAbortMessage[] =
      "threshold http.p95 <250ms failed (actual 312ms); run aborted";
  constexpr ThresholdsVerdict kNone = ThresholdsVerdict::kNone,
                              kPassed = ThresholdsVerdict::kPassed,
                              kFailed = ThresholdsVerdict::kFailed,
                              kUndecided = ThresholdsVerdict::kUndecided;
  struct Case {
    const char* state;
    const char* end_reason;  // "": the field is absent
    ThresholdsVerdict thresholds;
    const char* message;
    int want;
  };
  const Case kCases[] = {
      {"finished", "completed", kNone, "", kExitOk},
      {"finished", "completed", kPassed, "", kExitOk},
      {"finished", "completed", kFailed, "", kExitThresholdsFailed},
      {"finished", "completed", kPassed, "1 worker(s) sent no final stats", kExitOk},
      {"stopped", "aborted_by_threshold", kFailed, kAbortMessage, kExitThresholdsFailed},
      {"stopped", "aborted_by_threshold", kFailed, "", kExitThresholdsFailed},
      // Ctrl-C or loadctl stop, even with the abort's words in the message.
      {"stopped", "stopped", kFailed, "", kExitRunError},
      {"stopped", "stopped", kPassed, "", kExitRunError},
      {"stopped", "stopped", kFailed, kAbortMessage, kExitRunError},
      {"failed", "all_workers_lost", kFailed, "every worker of the run was lost",
       kExitRunError},
      {"failed", "all_workers_lost", kPassed, "", kExitRunError},
      {"failed", "no_workers", kPassed, "only 1 of 3 expected workers", kExitRunError},
      // The coordinator died mid-run: never a success, whatever was measured.
      {"interrupted", "interrupted", kPassed, "the coordinator stopped", kExitRunError},
      {"interrupted", "interrupted", kFailed, "the coordinator stopped", kExitRunError},
      {"running", "", kUndecided, "", kExitRunError},
      // A reason this loadctl does not know is a run error.
      {"finished", "completed_on_mars", kPassed, "", kExitRunError},
      // A coordinator without end_reason: the state decides, never the message.
      {"finished", "", kNone, "", kExitOk},
      {"finished", "", kFailed, "", kExitThresholdsFailed},
      {"stopped", "", kFailed, kAbortMessage, kExitRunError},
      {"failed", "", kPassed, "all workers lost", kExitRunError},
  };
  for (const Case& c : kCases) {
    RunView run;
    run.state = c.state;
    run.end_reason = EndReasonFromName(c.end_reason);
    run.end_reason_unknown = !run.end_reason && c.end_reason[0] != '\0';
    run.thresholds_verdict = c.thresholds;
    run.message = c.message;
    EXPECT_EQ(ExitCodeFor(VerdictOf(run)), c.want)
        << c.state << " " << c.end_reason << " " << static_cast<int>(c.thresholds) << " "
        << c.message;
  }
}

TEST(VerdictOfTest, ParsesEndReasonAndAbortedBy) {
  struct Case {
    const char* fields;
    std::optional<EndReason> end_reason;
    const char* aborted_by;
  };
  const Case kCases[] = {
      {"", std::nullopt, ""},
      {R"(, "end_reason": null, "aborted_by": null)", std::nullopt, ""},
      {R"(, "end_reason": "completed", "aborted_by": null)", EndReason::kCompleted, ""},
      {R"(, "end_reason": "aborted_by_threshold", "aborted_by": "step:a.b.p99")",
       EndReason::kAbortedByThreshold, "step:a.b.p99"},
      {R"(, "end_reason": "no_workers")", EndReason::kNoWorkers, ""},
      {R"(, "end_reason": "all_workers_lost")", EndReason::kAllWorkersLost, ""},
      {R"(, "end_reason": "interrupted")", EndReason::kInterrupted, ""},
      {R"(, "end_reason": "stopped")", EndReason::kStopped, ""},
      {R"(, "end_reason": "later")", std::nullopt, ""},  // end_reason_unknown
      {R"(, "end_reason": 3)", std::nullopt, ""},
  };
  for (const Case& c : kCases) {
    std::string json = std::string(R"({"id": "r1", "state": "stopped")") + c.fields + "}";
    RunView run = ParseTestRun(json.c_str());
    EXPECT_EQ(run.end_reason, c.end_reason) << json;
    EXPECT_EQ(run.end_reason_unknown, json.find("later") != std::string::npos) << json;
    EXPECT_EQ(run.aborted_by, c.aborted_by) << json;
  }
}

TEST(IsFinalStateTest, Table) {
  for (const char* state : {"finished", "stopped", "failed", "interrupted"}) {
    EXPECT_TRUE(IsFinalState(state)) << state;
  }
  for (const char* state : {"waiting", "starting", "running", "stopping", ""}) {
    EXPECT_FALSE(IsFinalState(state)) << state;
  }
}

TEST(VerdictOfTest, ParsesThresholdsPassed) {
  struct Case {
    const char* field;
    ThresholdsVerdict want;
  };
  const Case kCases[] = {
      {"", ThresholdsVerdict::kNone},
      {R"(, "thresholds_passed": true)", ThresholdsVerdict::kPassed},
      {R"(, "thresholds_passed": false)", ThresholdsVerdict::kFailed},
      {R"(, "thresholds_passed": null)", ThresholdsVerdict::kUndecided},
  };
  for (const Case& c : kCases) {
    std::string json = std::string(R"({"id": "r1", "state": "finished")") + c.field + "}";
    EXPECT_EQ(ParseTestRun(json.c_str()).thresholds_verdict, c.want) << json;
  }
}

TEST(FormatThresholdActualTest, UnitFollowsTheMetric) {
  struct Case {
    const char* key;
    bool measured;
    double actual;
    const char* want;
  };
  const Case kCases[] = {
      {"http.p95", true, 20815, "20.8ms"},
      {"http.p99.9", true, 1500000, "1.50s"},
      {"step:api.v1.p(99)", true, 812, "812us"},
      {"http.error_rate", true, 0.0123, "1.23%"},
      {"checks.pass_rate", true, 0.997, "99.70%"},
      {"step:a.b.rps", true, 1902.44, "1902.4/s"},
      {"http.p95", false, 0, "-"},
  };
  for (const Case& c : kCases) {
    // As loadctl reads it: the key parsed once with the coordinator's parser.
    std::string json = std::string(R"({"id": "r1", "state": "finished", "thresholds": [
        {"key": ")") + c.key +
                       R"(", "condition": "<1s", "actual": )" +
                       (c.measured ? std::to_string(c.actual) : "null") + "}]}";
    RunView run = ParseTestRun(json.c_str());
    ASSERT_EQ(run.thresholds.size(), 1u) << json;
    EXPECT_EQ(FormatThresholdActual(run.thresholds[0]), c.want) << c.key;
  }
}

TEST(FormatThresholdActualTest, AKeyThisLoadctlDoesNotKnowShowsTheNumber) {
  RunView run = ParseTestRun(R"({"id": "r1", "state": "finished", "thresholds": [
      {"key": "http.p42", "condition": "<1s", "actual": 1234.5}]})");
  ASSERT_EQ(run.thresholds.size(), 1u);
  EXPECT_FALSE(run.thresholds[0].measure.has_value());
  EXPECT_EQ(FormatThresholdActual(run.thresholds[0]), "1234.5");
}

TEST(FormatPassRateTest, TwoDecimalsOrDash) {
  EXPECT_EQ(FormatPassRate(990, 10), "99.00%");
  EXPECT_EQ(FormatPassRate(2, 1), "66.67%");
  EXPECT_EQ(FormatPassRate(0, 5), "0.00%");
  EXPECT_EQ(FormatPassRate(0, 0), "-");
}

TEST(FailedThresholdsTest, NamesEachFailedOneWithItsValueOrReason) {
  RunView run = ParseTestRun(R"({"id": "r1", "state": "finished", "thresholds": [
      {"key": "http.p95", "condition": "<250ms", "actual": 312000, "passed": false},
      {"key": "http.p50", "condition": "<1s", "actual": 1000, "passed": true},
      {"key": "checks.pass_rate", "condition": ">99%", "actual": null, "passed": false,
       "message": "no checks ran"}]})");
  EXPECT_EQ(FailedThresholds(run),
            "http.p95 <250ms (actual 312.0ms), checks.pass_rate >99% (no checks ran)");
}

}  // namespace
}  // namespace loadd
