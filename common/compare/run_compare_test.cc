#include "common/compare/run_compare.h"

#include <gtest/gtest.h>

#include <random>

#include "common/compare/comparability.h"
#include "common/hdr_histogram.h"
#include "common/plan.h"

namespace loadd {
namespace {

// A run of `seconds` seconds of 600 responses a second around center_us on
// one endpoint "GET /x"; ramp_s first seconds outside the steady window.
RunSamples FakeRun(const std::string& id, double center_us, uint64_t seed,
                   int seconds = 12, int ramp_s = 2) {
  RunSamples run;
  run.facts.id = id;
  run.facts.name = "plan";
  run.facts.state = "finished";
  run.facts.plan_json =
      R"({"name":"plan","users":100,"requests":[{"url":"http://127.0.0.1/x"}]})";
  run.facts.model = "closed";
  run.facts.users = 100;
  run.facts.workers = 2;
  run.facts.duration_s = seconds;
  run.facts.steady_from_s = ramp_s;
  run.facts.steady_to_s = seconds;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> noise(-0.1, 0.1);
  for (int t = 0; t < seconds; ++t) {
    HdrHistogram h = HdrHistogram::ForLatencyMicros();
    // The ramp is 3x slower: kept out, it must not matter.
    double center = t < ramp_s ? 3 * center_us : center_us;
    for (int i = 0; i < 600; ++i)
      h.Record(static_cast<int64_t>(center * (1 + noise(rng))));
    Second s;
    s.t = t;
    s.requests = 600;
    h.ForEachBucket([&](int64_t v, int64_t c) { s.latency_us.emplace_back(v, c); });
    run.aggregate.push_back(s);
    run.endpoints["GET /x"].push_back(s);
  }
  run.totals["GET /x"] = {600 * seconds, 0};
  return run;
}

const MetricResult& Get(const EndpointResult& group, const std::string& key) {
  for (const MetricResult& m : group.metrics) {
    if (m.key == key) return m;
  }
  static MetricResult none;
  ADD_FAILURE() << "no metric " << key;
  return none;
}

bool HasWarning(const CompareResult& r, const std::string& kind,
                const std::string& text) {
  for (const CompareWarning& w : r.warnings) {
    if (w.kind == kind && w.message.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(CompareRunsTest, TwentyVersusTwentyIsNoChange) {
  CompareResult r = CompareRuns(FakeRun("a", 20000, 1), FakeRun("b", 20000, 2), {});
  for (const EndpointResult* g : {&r.aggregated, &r.endpoints.at(0)}) {
    for (const MetricResult& m : g->metrics) {
      EXPECT_EQ(m.verdict, Verdict::kNoChange) << g->name << " " << m.key;
    }
  }
  EXPECT_EQ(r.base_seconds, 10u);  // the ramp left out
  // 6000 responses are too few for p99.9 (50000): said, not hidden.
  ASSERT_EQ(r.warnings.size(), 2u) << r.warnings[2].message;
  EXPECT_TRUE(HasWarning(r, "samples", "Aggregated p999 is not tested"));
  EXPECT_TRUE(HasWarning(r, "samples", "GET /x p999 is not tested"));
}

TEST(CompareRunsTest, TwentyVersusTwentyTwoIsSlower) {
  CompareResult r = CompareRuns(FakeRun("a", 20000, 1), FakeRun("b", 22000, 2), {});
  for (const char* key : {"p50", "p90", "p95", "mean"}) {
    const MetricResult& m = Get(r.aggregated, key);
    EXPECT_EQ(m.verdict, Verdict::kSlower) << key;
    EXPECT_NEAR(*m.change_pct, 10, 2) << key;
    EXPECT_LT(*m.p_value, 0.01) << key;
  }
  EXPECT_EQ(Get(r.endpoints[0], "p50").verdict, Verdict::kSlower);
  EXPECT_EQ(Get(r.aggregated, "rps").verdict, Verdict::kNoChange);
  // 6000 responses: p99.9 needs 50000, p99 5000.
  EXPECT_FALSE(Get(r.aggregated, "p999").p_value);
  EXPECT_TRUE(HasWarning(r, "samples", "p999 is not tested"));
}

TEST(CompareRunsTest, SignificantButSmallIsNoChange) {
  CompareOptions o;
  CompareResult r =
      CompareRuns(FakeRun("a", 20000, 1), FakeRun("b", 20600, 2), o);  // +3%
  EXPECT_LT(*Get(r.aggregated, "p50").p_value, 0.01);
  EXPECT_EQ(Get(r.aggregated, "p50").verdict, Verdict::kNoChange);
  o.min_change_pct = 2;
  r = CompareRuns(FakeRun("a", 20000, 1), FakeRun("b", 20600, 2), o);
  EXPECT_EQ(Get(r.aggregated, "p50").verdict, Verdict::kSlower);
}

TEST(CompareRunsTest, FasterAndRates) {
  RunSamples b = FakeRun("b", 18000, 2);
  for (Second& s : b.aggregate) s.requests = 400, s.failures = 80;
  CompareResult r = CompareRuns(FakeRun("a", 20000, 1), b, {});
  EXPECT_EQ(Get(r.aggregated, "p50").verdict, Verdict::kFaster);
  const MetricResult& rps = Get(r.aggregated, "rps");
  EXPECT_EQ(rps.verdict, Verdict::kLower);
  EXPECT_STREQ(rps.worse, "lower");
  EXPECT_EQ(Get(r.aggregated, "error_rate").verdict, Verdict::kHigher);
  EXPECT_FALSE(Get(r.aggregated, "error_rate").change_pct);  // from 0
}

TEST(CompareRunsTest, IncludeRampSeesTheSlowRamp) {
  CompareOptions o;
  o.include_ramp = true;
  // Half the candidate's seconds are its 3x slower ramp.
  CompareResult r =
      CompareRuns(FakeRun("a", 20000, 1, 30, 0), FakeRun("b", 20000, 2, 30, 15), o);
  EXPECT_EQ(r.base_seconds, 30u);
  EXPECT_NEAR(*Get(r.aggregated, "p95").change_pct, 200, 10);
  EXPECT_EQ(Get(r.aggregated, "p95").verdict, Verdict::kSlower);
}

TEST(CompareRunsTest, TooFewSecondsTestsNothing) {
  CompareResult r = CompareRuns(FakeRun("a", 20000, 1, 5), FakeRun("b", 30000, 2, 5), {});
  EXPECT_EQ(Get(r.aggregated, "p50").verdict, Verdict::kNoChange);
  EXPECT_FALSE(Get(r.aggregated, "p50").p_value);
  EXPECT_TRUE(HasWarning(r, "duration", "too few steady seconds"));
}

TEST(ComparabilityTest, WarningsNameTheDifference) {
  RunSamples a = FakeRun("a", 20000, 1), b = FakeRun("b", 20000, 2);
  b.facts.name = "other";
  b.facts.users = 50;
  b.facts.workers = 3;
  b.facts.duration_s = 20;
  b.facts.state = "stopped";
  b.facts.plan_json =
      R"({"name":"other","users":50,"requests":[{"url":"http://127.0.0.1/y"}]})";
  for (Second& s : b.aggregate) s.failures = 400;
  CompareResult r = CompareRuns(a, b, {});
  EXPECT_TRUE(HasWarning(r, "plan", "base \"plan\", candidate \"other\""));
  EXPECT_TRUE(HasWarning(r, "plan",
                         "$.requests[0].url \"http://127.0.0.1/x\" vs "
                         "\"http://127.0.0.1/y\""));
  EXPECT_TRUE(HasWarning(r, "load", "base 100, candidate 50"));
  EXPECT_TRUE(HasWarning(r, "workers", "base 2, candidate 3"));
  EXPECT_TRUE(HasWarning(r, "duration", "base 12s, candidate 20s"));
  EXPECT_TRUE(HasWarning(r, "state", "run b is stopped"));
  EXPECT_TRUE(HasWarning(r, "errors", "66.7% of its requests failed"));
}

TEST(ComparabilityTest, EndpointsOnlyInOneRun) {
  RunSamples a = FakeRun("a", 20000, 1), b = FakeRun("b", 20000, 2);
  b.endpoints["GET /new"] = b.endpoints["GET /x"];
  a.endpoints.erase("GET /x");
  CompareResult r = CompareRuns(a, b, {});
  EXPECT_TRUE(r.endpoints.empty());
  EXPECT_TRUE(HasWarning(r, "endpoint", "\"GET /new\" is only in the candidate run b"));
  EXPECT_TRUE(HasWarning(r, "endpoint", "\"GET /x\" is only in the candidate run b"));
}

TEST(JsonDifferencesTest, PathsAndLimit) {
  auto d = JsonDifferences(R"({"a":1,"b":[1,2],"c":{"d":"x"},"name":"p"})",
                           R"({"a":2,"b":[1],"c":{"d":"x","e":true},"name":"q"})",
                           {"name"}, 10);
  EXPECT_EQ(d, (std::vector<std::string>{"$.a 1 vs 2", "$.b[1] 2 vs (absent)",
                                         "$.c.e (absent) vs true"}));
  EXPECT_EQ(JsonDifferences(R"({"a":1,"b":2})", R"({"a":3,"b":4})", {}, 1).size(), 1u);
}

TEST(SteadyWindowTest, LeavesTheRampOut) {
  Result<Plan> plan = ParsePlan(
      R"({"target":"http://127.0.0.1:1","users":100,"spawn_rate":50,"duration":"10s"})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  bool plateau = false;
  EXPECT_EQ(SteadyWindow(*plan, &plateau), std::make_pair(int64_t{2}, int64_t{10}));
  EXPECT_TRUE(plateau);
  Result<Plan> ramp = ParsePlan(
      R"({"target":"http://127.0.0.1:1","stages":[{"duration":"5s","users":100}]})");
  ASSERT_TRUE(ramp.ok()) << ramp.status().ToString();
  EXPECT_EQ(SteadyWindow(*ramp, &plateau), std::make_pair(int64_t{0}, int64_t{5}));
  EXPECT_FALSE(plateau);
}

TEST(WriteCompareTest, ContractFieldNames) {
  CompareResult r = CompareRuns(FakeRun("a", 20000, 1), FakeRun("b", 22000, 2), {});
  rapidjson::Document doc;
  std::string json = ToJson([&](JsonWriter* w) { WriteCompare(r, w); });
  ASSERT_TRUE(ParseJson(json, &doc).ok());
  EXPECT_STREQ(doc["base"].GetString(), "a");
  EXPECT_STREQ(doc["candidate"].GetString(), "b");
  const auto& p50 = doc["aggregated"]["p50"];
  EXPECT_TRUE(p50["base_us"].IsNumber());
  EXPECT_TRUE(p50["candidate_us"].IsNumber());
  EXPECT_TRUE(p50["change_pct"].IsNumber());
  EXPECT_STREQ(p50["verdict"].GetString(), "slower");
  EXPECT_TRUE(p50["p_value"].IsNumber());
  EXPECT_TRUE(doc["aggregated"]["rps"]["base"].IsNumber());
  EXPECT_STREQ(doc["aggregated"]["error_rate"]["worse"].GetString(), "higher");
  EXPECT_TRUE(doc["aggregated"]["p999"]["p_value"].IsNull());
  EXPECT_STREQ(doc["endpoints"][0]["name"].GetString(), "GET /x");
  EXPECT_TRUE(doc["warnings"].IsArray());
  EXPECT_EQ(doc["seconds"]["base"]["from_s"].GetInt64(), 2);
}

}  // namespace
}  // namespace loadd
