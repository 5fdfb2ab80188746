#include "ctl/verdict.h"

#include <gtest/gtest.h>

#include "ctl/test_runs.h"

namespace loadd {
namespace {

TEST(VerdictOfTest, StateAndThresholdsDecide) {
  constexpr char kAborted[] =
      "threshold http.p95 <250ms failed (actual 312ms); run aborted";
  struct Case {
    const char* state;
    ThresholdsVerdict thresholds;
    const char* message;
    Outcome want;
  };
  const Case kCases[] = {
      {"finished", ThresholdsVerdict::kNone, "", Outcome::kSuccess},
      {"finished", ThresholdsVerdict::kPassed, "", Outcome::kSuccess},
      {"finished", ThresholdsVerdict::kFailed, "", Outcome::kThresholdsFailed},
      {"stopped", ThresholdsVerdict::kFailed, kAborted, Outcome::kThresholdsFailed},
      {"stopped", ThresholdsVerdict::kFailed, "", Outcome::kRunError},  // Ctrl-C
      {"stopped", ThresholdsVerdict::kPassed, "", Outcome::kRunError},
      {"stopped", ThresholdsVerdict::kNone, kAborted, Outcome::kRunError},
      {"failed", ThresholdsVerdict::kFailed, "all workers lost", Outcome::kRunError},
      {"failed", ThresholdsVerdict::kPassed, "all workers lost", Outcome::kRunError},
      {"running", ThresholdsVerdict::kUndecided, "", Outcome::kRunError},
      // The coordinator died mid-run: never a success, whatever was measured.
      {"interrupted", ThresholdsVerdict::kPassed, "the coordinator stopped",
       Outcome::kRunError},
      {"interrupted", ThresholdsVerdict::kFailed, "the coordinator stopped",
       Outcome::kRunError},
  };
  for (const Case& c : kCases) {
    RunView run;
    run.state = c.state;
    run.thresholds_verdict = c.thresholds;
    run.message = c.message;
    EXPECT_EQ(VerdictOf(run), c.want)
        << c.state << " " << static_cast<int>(c.thresholds) << " " << c.message;
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
    ThresholdView t;
    t.key = c.key;
    t.measured = c.measured;
    t.actual = c.actual;
    EXPECT_EQ(FormatThresholdActual(t), c.want) << c.key;
  }
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
