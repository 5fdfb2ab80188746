// The threshold evaluator on hand-made statistics: no run, no clock.
#include "daemon/coordinator/run_thresholds.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

Threshold Parse(const char* json) {
  rapidjson::Document doc;
  EXPECT_TRUE(ParseJson(json, &doc).ok());
  std::vector<Threshold> out;
  Status s = ReadThresholds(&doc, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out.empty() ? Threshold{} : out[0];
}

struct Stats {
  EndpointTotals aggregated;
  std::vector<EndpointTotals> endpoints;
  std::map<std::string, size_t> index;
  std::map<std::string, CheckTotals> checks;

  ThresholdData Data(double elapsed_s) const {
    return ThresholdData{aggregated, endpoints, index, checks, elapsed_s};
  }
};

Stats TwoSteps() {
  Stats s;
  EndpointTotals fast, slow;
  fast.name = "fast";
  slow.name = "slow";
  for (int i = 0; i < 100; ++i) fast.latency_us.Record(1000);
  for (int i = 0; i < 100; ++i) slow.latency_us.Record(50'000);
  fast.requests = slow.requests = 100;
  slow.failures = 10;
  s.aggregated.requests = 200;
  s.aggregated.failures = 10;
  s.aggregated.latency_us.Merge(fast.latency_us);
  s.aggregated.latency_us.Merge(slow.latency_us);
  s.endpoints = {fast, slow};
  s.index = {{"fast", 0}, {"slow", 1}};
  s.checks = {{"ok", {3, 1}}};
  return s;
}

TEST(RunThresholdsTest, MeasuresEachScope) {
  Stats s = TwoSteps();
  struct Case {
    const char* json;
    bool passed;
    double actual;
  } cases[] = {
      {R"({"http.error_rate": "<1%"})", false, 0.05},
      {R"({"http.rps": ">10"})", true, 20},
      {R"({"step:fast.p99": "<2ms"})", true, 1000},
      {R"({"step:slow.max": "<2ms"})", false, 50'000},
      {R"({"checks.pass_rate": ">=75%"})", true, 0.75},
  };
  for (const Case& c : cases) {
    ThresholdResult r = EvaluateThreshold(Parse(c.json), s.Data(10));
    EXPECT_TRUE(r.measured) << c.json;
    EXPECT_EQ(r.passed, c.passed) << c.json << ": " << r.message;
    EXPECT_NEAR(r.actual, c.actual, c.actual * 0.01) << c.json;
  }
}

TEST(RunThresholdsTest, NothingToMeasureIsNotAPass) {
  Stats empty;
  struct Case {
    const char* json;
    const char* why;
  } cases[] = {
      {R"({"http.p95": "<1s"})", "no latencies recorded"},
      {R"({"http.error_rate": "<1%"})", "no requests completed"},
      {R"({"http.rps": ">1"})", "the run measured no time"},
      {R"({"checks.pass_rate": ">50%"})", "no checks ran"},
      {R"({"step:x.p50": "<1s"})", "no step named \"x\" reported in this run"},
  };
  for (const Case& c : cases) {
    ThresholdResult r = EvaluateThreshold(Parse(c.json), empty.Data(0));
    EXPECT_FALSE(r.measured) << c.json;
    EXPECT_FALSE(r.passed) << c.json;
    EXPECT_EQ(r.message, c.why) << c.json;
  }
}

TEST(RunThresholdsTest, MessageSaysActualAgainstCondition) {
  ThresholdResult r =
      EvaluateThreshold(Parse(R"({"step:slow.p50": "<10ms"})"), TwoSteps().Data(10));
  EXPECT_EQ(r.message.rfind("actual ", 0), 0u) << r.message;
  EXPECT_NE(r.message.find(" misses <10ms"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace loadd
