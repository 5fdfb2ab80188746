#include "common/threshold.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/plan.h"

namespace loadd {
namespace {

// Parses {"thresholds": {<body>}} as the plan parser does.
Status Read(const std::string& body, std::vector<Threshold>* out) {
  rapidjson::Document doc;
  std::string json = "{\"thresholds\": {" + body + "}}";
  Status parsed = ParseJson(json, &doc);
  if (!parsed.ok()) return parsed;
  return ReadThresholds(&doc["thresholds"], out);
}

struct GoodCase {
  const char* body;
  const char* scope;
  const char* metric;
  const char* op;
  double value;  // us for latencies, a fraction for rates, 1/s for rps
};

TEST(ThresholdTest, GoodKeysAndConditions) {
  const GoodCase cases[] = {
      {R"("http.p95": "<250ms")", "http", "p95", "<", 250'000},
      {R"j("http.p(95)": "<=1s")j", "http", "p95", "<=", 1'000'000},
      {R"("http.p50": "< 2.5 ms")", "http", "p50", "<", 2'500},
      {R"("http.med": "<1ms")", "http", "p50", "<", 1'000},
      {R"("http.p90": ">=10us")", "http", "p90", ">=", 10},
      {R"("http.p99": "<1m30s")", "http", "p99", "<", 90e6},
      {R"("http.p99.9": "<2s")", "http", "p99.9", "<", 2e6},
      {R"j("http.p(99.9)": "<500ns")j", "http", "p99.9", "<", 0.5},
      {R"("http.min": ">1ms")", "http", "min", ">", 1'000},
      {R"("http.max": "<10s")", "http", "max", "<", 10e6},
      {R"("http.avg": "<100ms")", "http", "mean", "<", 100'000},
      {R"("http.mean": "<100ms")", "http", "mean", "<", 100'000},
      {R"("http.error_rate": "<1%")", "http", "error_rate", "<", 0.01},
      {R"("http.error_rate": "<=0.05")", "http", "error_rate", "<=", 0.05},
      {R"("http.rps": ">500")", "http", "rps", ">", 500},
      {R"("http.rps": ">=1200.5/s")", "http", "rps", ">=", 1200.5},
      {R"("checks.pass_rate": ">99%")", "checks", "pass_rate", ">", 0.99},
      {R"("checks.pass_rate": ">=1")", "checks", "pass_rate", ">=", 1},
      {R"("step:/cart.p99": "<500ms")", "step:/cart", "p99", "<", 500'000},
      {R"("step:api.v1.login.p95": "<1s")", "step:api.v1.login", "p95", "<", 1e6},
      {R"("step:x.p99.9": "<1s")", "step:x", "p99.9", "<", 1e6},
      {R"j("step:v2.0.p(99.9)": "<1s")j", "step:v2.0", "p99.9", "<", 1e6},
      {R"("step:GET /items/[id].error_rate": "<0.5%")", "step:GET /items/[id]",
       "error_rate", "<", 0.005},
  };
  for (const GoodCase& c : cases) {
    std::vector<Threshold> out;
    Status s = Read(c.body, &out);
    ASSERT_TRUE(s.ok()) << c.body << ": " << s.ToString();
    ASSERT_EQ(out.size(), 1u) << c.body;
    EXPECT_EQ(ScopeName(out[0].measure), c.scope) << c.body;
    EXPECT_EQ(MetricName(out[0].measure), c.metric) << c.body;
    EXPECT_STREQ(ComparisonSymbol(out[0].comparison), c.op) << c.body;
    EXPECT_DOUBLE_EQ(out[0].value, c.value) << c.body;
    EXPECT_FALSE(out[0].abort_on_fail) << c.body;
  }
}

TEST(ThresholdTest, ObjectFormCarriesAbortAndDelay) {
  std::vector<Threshold> out;
  Status s =
      Read(R"("http.p95": {"condition": "<250ms", "abort_on_fail": true, "delay": "10s"},
                     "http.error_rate": {"condition": "<1%"})",
           &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].key, "http.p95");
  EXPECT_EQ(out[0].condition, "<250ms");
  EXPECT_TRUE(out[0].abort_on_fail);
  EXPECT_EQ(out[0].delay_ns, 10 * kNsPerSec);
  EXPECT_FALSE(out[1].abort_on_fail);
  EXPECT_EQ(out[1].delay_ns, 0);
}

TEST(ThresholdTest, AbsentMeansNone) {
  std::vector<Threshold> out;
  EXPECT_TRUE(ReadThresholds(nullptr, &out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(Read("", &out).ok());
  EXPECT_TRUE(out.empty());
}

struct BadCase {
  const char* body;
  const char* path;
  const char* message;  // a fragment
};

TEST(ThresholdTest, MistakesNameTheKey) {
  const BadCase cases[] = {
      {R"("http.p95": "<250")", R"($.thresholds["http.p95"])",
       R"("<250" needs a unit (e.g. <250ms))"},
      {R"("http.p95": "250ms")", R"($.thresholds["http.p95"])",
       "needs a comparison first"},
      {R"("http.p95": "=250ms")", R"($.thresholds["http.p95"])",
       "needs a comparison first"},
      {R"("http.p95": "<")", R"($.thresholds["http.p95"])", "needs a value after <"},
      {R"("http.p95": "<5%")", R"($.thresholds["http.p95"])", "is a latency"},
      {R"("http.p95": "<5parsecs")", R"($.thresholds["http.p95"])",
       "needs a unit: ns, us"},
      {R"("http.p95": "<-5ms")", R"($.thresholds["http.p95"])", "is not a duration"},
      {R"("http.p95": 250)", R"($.thresholds["http.p95"])", "got number"},
      {R"("http.p95": ["<1s"])", R"($.thresholds["http.p95"])", "got array"},
      {R"("http.error_rate": "<5ms")", R"($.thresholds["http.error_rate"])", "is a rate"},
      {R"("http.error_rate": "<5")", R"($.thresholds["http.error_rate"])",
       "is not a fraction between 0 and 1: write <5%"},
      {R"("http.error_rate": "<150%")", R"($.thresholds["http.error_rate"])",
       "above 100%"},
      {R"("http.error_rate": "<1e-3")", R"($.thresholds["http.error_rate"])",
       "is a rate"},
      {R"("http.rps": ">5%")", R"($.thresholds["http.rps"])", "needs a plain number"},
      {R"("http.rps": ">5ms")", R"($.thresholds["http.rps"])", "needs a plain number"},
      {R"("http.p96": "<1s")", R"($.thresholds["http.p96"])", R"(unknown metric "p96")"},
      {R"("http": "<1s")", R"($.thresholds["http"])", "is not a threshold key"},
      {R"("http_req_duration": "<1s")", R"($.thresholds["http_req_duration"])",
       "is not a threshold key"},
      {R"("latency.p95": "<1s")", R"($.thresholds["latency.p95"])",
       R"(unknown scope "latency")"},
      {R"("step:.p95": "<1s")", R"($.thresholds["step:.p95"])", "step name"},
      {R"("checks.p95": "<1s")", R"($.thresholds["checks.p95"])", "pass_rate"},
      {R"("http.pass_rate": ">99%")", R"($.thresholds["http.pass_rate"])",
       "for checks only"},
      {R"("step:a\"b.p96": "<1s")", R"($.thresholds["step:a\"b.p96"])", "unknown metric"},
      {R"("http.p95": {"abort_on_fail": true})", R"($.thresholds["http.p95"].condition)",
       "is required"},
      {R"("http.p95": {"condition": "<1s", "delay": "5s"})",
       R"($.thresholds["http.p95"].delay)", "abort_on_fail"},
      {R"("http.p95": {"condition": "<1s", "abort_on_fail": true, "delay": "soon"})",
       R"($.thresholds["http.p95"].delay)", "is not a duration"},
      {R"("http.p95": {"condition": "<1s", "abort_on_fail": "yes"})",
       R"($.thresholds["http.p95"].abort_on_fail)", "true or false"},
      {R"("http.p95": {"condition": "<1s", "abort": true})",
       R"($.thresholds["http.p95"].abort)", "unknown field"},
      {R"("http.p95": "<1s", "http.p95": "<2s")", R"($.thresholds["http.p95"])",
       "appears twice"},
  };
  for (const BadCase& c : cases) {
    std::vector<Threshold> out;
    Status s = Read(c.body, &out);
    ASSERT_FALSE(s.ok()) << c.body;
    EXPECT_EQ(s.path(), c.path) << c.body << " -> " << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos)
        << c.body << " -> " << s.ToString();
    EXPECT_TRUE(out.empty()) << c.body;
  }
}

TEST(ThresholdTest, NotAnObjectAndTooMany) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(R"(["http.p95<1s"])", &doc).ok());
  std::vector<Threshold> out;
  Status s = ReadThresholds(&doc, &out);
  EXPECT_EQ(s.path(), "$.thresholds");
  EXPECT_NE(s.message().find("got array"), std::string::npos) << s.ToString();

  std::string body;
  for (int i = 0; i < 101; ++i) {
    body +=
        (i ? "," : "") + std::string("\"step:s") + std::to_string(i) + ".p95\": \"<1s\"";
  }
  s = Read(body, &out);
  EXPECT_EQ(s.path(), "$.thresholds");
  EXPECT_NE(s.message().find("at most 100"), std::string::npos) << s.ToString();
}

TEST(ThresholdTest, PlanRoundTrip) {
  Result<Plan> plan = ParsePlan(R"j({"target": "http://h:1", "users": 2, "duration": "5s",
      "thresholds": {
        "http.p(95)": "< 250ms",
        "http.error_rate": "<1%",
        "step:GET /a.b.p99.9": {"condition": "<=1.5s", "abort_on_fail": true, "delay": "1m30s"},
        "checks.pass_rate": {"condition": ">99.5%", "abort_on_fail": true},
        "http.rps": ">10/s"}})j");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->thresholds.size(), 5u);
  std::string json = PlanToJson(*plan);
  Result<Plan> again = ParsePlan(json);
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << json;
  EXPECT_EQ(PlanToJson(*again), json);
  ASSERT_EQ(again->thresholds.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const Threshold& a = plan->thresholds[i];
    const Threshold& b = again->thresholds[i];
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.measure.scope, b.measure.scope);
    EXPECT_EQ(a.measure.step, b.measure.step);
    EXPECT_EQ(a.measure.metric, b.measure.metric);
    EXPECT_EQ(a.measure.percentile, b.measure.percentile);
    EXPECT_EQ(a.comparison, b.comparison);
    EXPECT_DOUBLE_EQ(a.value, b.value);
    EXPECT_EQ(a.condition, b.condition);
    EXPECT_EQ(a.abort_on_fail, b.abort_on_fail);
    EXPECT_EQ(a.delay_ns, b.delay_ns);
  }
  EXPECT_EQ(ScopeName(again->thresholds[2].measure), "step:GET /a.b");
  EXPECT_EQ(again->thresholds[2].delay_ns, 90 * kNsPerSec);
  EXPECT_TRUE(again->thresholds[3].abort_on_fail);
  EXPECT_EQ(again->thresholds[3].delay_ns, 0);
  // A plan without thresholds writes none.
  Result<Plan> bare = ParsePlan(R"({"target": "http://h:1", "users": 2})");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(PlanToJson(*bare).find("thresholds"), std::string::npos);
}

TEST(ThresholdTest, BadThresholdFailsThePlanWithItsPath) {
  Result<Plan> plan = ParsePlan(R"({"target": "http://h:1", "users": 2,
      "thresholds": {"http.p95": "<250"}})");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().ToString(),
            R"($.thresholds["http.p95"]: "<250" needs a unit (e.g. <250ms))");
}

TEST(ThresholdTest, Holds) {
  constexpr Comparison kLt = Comparison::kLess, kLe = Comparison::kLessOrEqual,
                       kGt = Comparison::kGreater, kGe = Comparison::kGreaterOrEqual;
  struct Case {
    Comparison op;
    double value, actual;
    bool holds;
  };
  const Case cases[] = {
      {kLt, 250, 249, true},   {kLt, 250, 250, false},   {kLe, 250, 250, true},
      {kLe, 250, 251, false},  {kGt, 0.99, 0.995, true}, {kGt, 0.99, 0.99, false},
      {kGe, 0.99, 0.99, true}, {kGe, 0.99, 0.98, false},
  };
  for (const Case& c : cases) {
    Threshold t;
    t.comparison = c.op;
    t.value = c.value;
    EXPECT_EQ(ThresholdHolds(t, c.actual), c.holds)
        << ComparisonSymbol(c.op) << c.value << " vs " << c.actual;
  }
}

// The typed form: a key's scope, metric and percentile, and a value's
// unit, are read once; loadctl parses a run's keys with the same function.
TEST(ThresholdTest, KeysParseToTheTypedForm) {
  struct Case {
    const char* key;
    ThresholdScope scope;
    const char* step;
    ThresholdMetric metric;
    double percentile;
    MetricUnit unit;
  };
  const Case cases[] = {
      {"http.p(99.9)", ThresholdScope::kHttp, "", ThresholdMetric::kPercentile, 99.9,
       MetricUnit::kMicros},
      {"http.med", ThresholdScope::kHttp, "", ThresholdMetric::kPercentile, 50,
       MetricUnit::kMicros},
      {"step:a.b.p99.9", ThresholdScope::kStep, "a.b", ThresholdMetric::kPercentile, 99.9,
       MetricUnit::kMicros},
      {"step:GET /x.avg", ThresholdScope::kStep, "GET /x", ThresholdMetric::kMean, 0,
       MetricUnit::kMicros},
      {"step:a.rps", ThresholdScope::kStep, "a", ThresholdMetric::kRps, 0,
       MetricUnit::kPerSecond},
      {"http.error_rate", ThresholdScope::kHttp, "", ThresholdMetric::kErrorRate, 0,
       MetricUnit::kFraction},
      {"checks.pass_rate", ThresholdScope::kChecks, "", ThresholdMetric::kPassRate, 0,
       MetricUnit::kFraction},
  };
  for (const Case& c : cases) {
    ThresholdMeasure m;
    ASSERT_TRUE(ParseThresholdKey(c.key, "k", &m).ok()) << c.key;
    EXPECT_EQ(m.scope, c.scope) << c.key;
    EXPECT_EQ(m.step, c.step) << c.key;
    EXPECT_EQ(m.metric, c.metric) << c.key;
    EXPECT_DOUBLE_EQ(m.percentile, c.percentile) << c.key;
    EXPECT_EQ(UnitOf(m.metric), c.unit) << c.key;
  }
  ThresholdMeasure m;
  Status bad = ParseThresholdKey("http.p96", "$.thresholds[0].key", &m);
  EXPECT_EQ(bad.path(), "$.thresholds[0].key");
}

TEST(ThresholdTest, ValuesFormatInTheMetricsUnit) {
  EXPECT_EQ(FormatMetricValue(ThresholdMetric::kPercentile, 20815), "20.8ms");
  EXPECT_EQ(FormatMetricValue(ThresholdMetric::kMax, 812), "812us");
  EXPECT_EQ(FormatMetricValue(ThresholdMetric::kErrorRate, 0.0123), "1.23%");
  EXPECT_EQ(FormatMetricValue(ThresholdMetric::kPassRate, 0.997), "99.70%");
  EXPECT_EQ(FormatMetricValue(ThresholdMetric::kRps, 1902.44), "1902.4/s");
}

}  // namespace
}  // namespace loadd
