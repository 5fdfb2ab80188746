#include "ctl/compare_command.h"

#include <gtest/gtest.h>

#include "ctl/test_fakes.h"

namespace loadd {
namespace {

std::string Latency(double base_us, double candidate_us, const char* verdict, double p) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                R"({"base_us": %g, "candidate_us": %g, "change_us": %g, "change_pct": %g,
                    "verdict": "%s", "p_value": %g, "worse": "higher", "test": "t"})",
                base_us, candidate_us, candidate_us - base_us,
                (candidate_us / base_us - 1) * 100, verdict, p);
  return buf;
}

// An answer of GET /v1/compare: p50 slower on both groups, rps lower.
std::string Answer() {
  std::string group_fields =
      R"("rps": {"base": 1000, "candidate": 900, "change": -100, "change_pct": -10,
                 "verdict": "lower", "p_value": 0.0001, "worse": "lower", "test": "t"},
         "error_rate": {"base": 0, "candidate": 0, "change": 0, "change_pct": 0,
                        "verdict": "no_change", "p_value": null, "worse": "higher",
                        "test": "t"},
         "p50": )" +
      Latency(20000, 22000, "slower", 0.000999) + R"(, "p95": )" +
      Latency(21000, 21100, "no_change", 0.4) + R"(, "max": )" +
      Latency(30000, 25000, "faster", 0.001);
  return R"({"base": "r1", "candidate": "r2",
             "options": {"min_change_pct": 5, "alpha": 0.01, "include_ramp": false,
                         "replicates": 1000, "seed": 1, "block_s": 2},
             "seconds": {"base": {"from_s": 1, "to_s": 8, "used": 7},
                         "candidate": {"from_s": 1, "to_s": 8, "used": 7}},
             "aggregated": {"name": "Aggregated", )" +
         group_fields + R"(},
             "endpoints": [{"name": "GET /a|b", )" +
         group_fields + R"(}],
             "warnings": [{"kind": "load", "message": "different user counts: base 100, candidate 50"}]})";
}

class CompareCommandTest : public ::testing::Test {
 protected:
  CompareCommandTest() {
    options_.run_id = "r1";
    options_.candidate_id = "r2";
    world_.api.On("GET /v1/compare?base=r1&candidate=r2", 200, Answer());
  }
  FakeWorld world_;
  Options options_;
};

TEST_F(CompareCommandTest, TableShowsEveryMetricAndTheWarnings) {
  Result<Outcome> outcome = RunCompare(options_, &world_.env);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, Outcome::kSuccess);
  std::string out = world_.out.str();
  EXPECT_NE(
      out.find("Aggregated  p50         20.00ms    22.00ms  +10.0%  <0.001  slower"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("requests/s   1000.0      900.0  -10.0%  <0.001  lower (worse)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("faster"), std::string::npos);
  EXPECT_NE(out.find("  load: different user counts: base 100, candidate 50\n"),
            std::string::npos);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);  // not a terminal
}

TEST_F(CompareCommandTest, TerminalLinesAreColouredByVerdict) {
  world_.env.out_is_tty = true;
  world_.env.term = "xterm";
  ASSERT_TRUE(RunCompare(options_, &world_.env).ok());
  std::string out = world_.out.str();
  EXPECT_NE(out.find("\x1b[31mAggregated  p50 "), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[32mAggregated  max "), std::string::npos) << out;
  EXPECT_EQ(out.find("\x1b[31mAggregated  p95 "), std::string::npos) << out;
  options_.no_color = true;
  world_.out.str("");
  ASSERT_TRUE(RunCompare(options_, &world_.env).ok());
  EXPECT_EQ(world_.out.str().find('\x1b'), std::string::npos);
}

TEST_F(CompareCommandTest, MarkdownIsATableWithEscapedCells) {
  options_.format = "markdown";
  ASSERT_TRUE(RunCompare(options_, &world_.env).ok());
  std::string out = world_.out.str();
  EXPECT_NE(out.find("| Endpoint | Metric | Base | Candidate | Change | p | Verdict |\n"
                     "|---|---|--:|--:|--:|--:|---|\n"),
            std::string::npos)
      << out;
  EXPECT_NE(
      out.find("| GET /a\\|b | p50 | 20.00ms | 22.00ms | +10.0% | <0.001 | **slower** |"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("**4 metric(s) worse**"), std::string::npos) << out;
}

TEST_F(CompareCommandTest, JsonIsTheAnswerVerbatim) {
  options_.json = true;
  ASSERT_TRUE(RunCompare(options_, &world_.env).ok());
  EXPECT_EQ(world_.out.str(), Answer() + "\n");
}

TEST_F(CompareCommandTest, FailOnWorseExitsOne) {
  options_.fail_on_worse = true;
  Result<Outcome> outcome = RunCompare(options_, &world_.env);
  EXPECT_EQ(ExitCodeFor(outcome), kExitThresholdsFailed);
}

TEST_F(CompareCommandTest, OptionsGoToTheQuery) {
  options_.min_change_pct = 2.5;
  options_.include_ramp = true;
  world_.api.On("GET /v1/compare?base=r1&candidate=r2&min_change=2.5&include_ramp=1", 200,
                Answer());
  EXPECT_TRUE(RunCompare(options_, &world_.env).ok());
}

TEST_F(CompareCommandTest, BadInputNamesTheFlag) {
  options_.format = "html";
  EXPECT_EQ(RunCompare(options_, &world_.env).status().path(), "--format");
  options_.format = "";
  options_.candidate_id = "r2&x=1";
  EXPECT_EQ(RunCompare(options_, &world_.env).status().path(), "RUN");
  options_.candidate_id = "r2";
  options_.min_change_pct = -1;
  EXPECT_EQ(RunCompare(options_, &world_.env).status().path(), "--min-change");
}

TEST_F(CompareCommandTest, AnAnswerOffContractIsAnError) {
  options_.candidate_id = "r3";
  world_.api.On("GET /v1/compare?base=r1&candidate=r3", 200,
                R"({"base": "r1", "candidate": "r3", "aggregated": {"name": "A",
                    "p50": {"base_us": 1}}, "endpoints": []})");
  Result<Outcome> outcome = RunCompare(options_, &world_.env);
  EXPECT_EQ(outcome.status().code(), StatusCode::kInternal);
  EXPECT_NE(outcome.status().message().find("A p50"), std::string::npos);
}

}  // namespace
}  // namespace loadd
