#include "daemon/coordinator/compare_view.h"

#include <gtest/gtest.h>

#include <map>

#include "common/hdr_histogram.h"
#include "common/plan.h"
#include "daemon/coordinator/hlog.h"

namespace loadd {
namespace {

Result<CompareRequest> Parse(std::map<std::string, std::string> query) {
  return ParseCompareQuery([&](const char* name) -> std::optional<std::string> {
    auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
  });
}

TEST(ParseCompareQueryTest, DefaultsAndOptions) {
  Result<CompareRequest> r = Parse({{"base", "r1"}, {"candidate", "r2"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->base, "r1");
  EXPECT_EQ(r->candidate, "r2");
  EXPECT_DOUBLE_EQ(r->options.min_change_pct, 5);
  EXPECT_DOUBLE_EQ(r->options.alpha, 0.01);
  EXPECT_FALSE(r->options.include_ramp);
  r = Parse({{"base", "r1"},
             {"candidate", "r2"},
             {"min_change", "2.5"},
             {"alpha", "0.05"},
             {"include_ramp", "true"}});
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->options.min_change_pct, 2.5);
  EXPECT_DOUBLE_EQ(r->options.alpha, 0.05);
  EXPECT_TRUE(r->options.include_ramp);
}

TEST(ParseCompareQueryTest, ErrorsNameTheParameter) {
  EXPECT_EQ(Parse({{"candidate", "r2"}}).status().path(), "base");
  EXPECT_EQ(Parse({{"base", "r1"}, {"candidate", ""}}).status().path(), "candidate");
  for (const char* bad : {"x", "-1", "5%", "", "nan", "1e9"}) {
    EXPECT_EQ(
        Parse({{"base", "r1"}, {"candidate", "r2"}, {"min_change", bad}}).status().path(),
        "min_change")
        << bad;
  }
  EXPECT_EQ(
      Parse({{"base", "r1"}, {"candidate", "r2"}, {"alpha", "0.9"}}).status().path(),
      "alpha");
  EXPECT_EQ(Parse({{"base", "r1"}, {"candidate", "r2"}, {"include_ramp", "yes"}})
                .status()
                .path(),
            "include_ramp");
}

// A run document as GET /v1/runs/{id} writes it (the fields read), and its
// interval log: endpoint "GET /a, b" (tag GET_/a__b) answers in 1 ms at
// t = 0 and 2 ms at t = 1; "other" 5 ms at t = 1 only.
TEST(RunSamplesFromTest, ReadsTheTimelineAndTheLog) {
  Result<Plan> plan = ParsePlan(
      R"({"name":"p","target":"http://127.0.0.1:1","users":10,"spawn_rate":10,"duration":"3s"})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string run = R"({"id":"r1","name":"p","state":"finished","plan":)" +
                    PlanToJson(*plan) +
                    R"(,"workers":[{},{}],"warnings":[{"kind":"cpu","message":"hot"}],
      "endpoints":[{"name":"GET /a, b","requests":30,"failures":3},
                   {"name":"other","requests":5,"failures":0}],
      "timeline":[{"t":0,"requests":10,"failures":1},{"t":1,"requests":25,"failures":2},
                  {"t":2,"requests":0,"failures":0}]})";
  IntervalLog log;
  auto histogram = [](int64_t value_us, int64_t count) {
    HdrHistogram h = HdrHistogram::ForLatencyMicros();
    h.RecordN(value_us, count);
    return h;
  };
  log.Add(0, "GET /a, b", histogram(1000, 10));
  log.Add(1, "GET /a, b", histogram(2000, 20));
  log.Add(1, "other", histogram(5000, 5));
  Result<RunSamples> s = RunSamplesFrom(run, log.Format(1.7e9));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->facts.id, "r1");
  EXPECT_EQ(s->facts.workers, 2);
  EXPECT_EQ(s->facts.users, 10);
  EXPECT_EQ(s->facts.steady_from_s, 1);  // 10 users at 10/s: 1 s of ramp
  EXPECT_EQ(s->facts.steady_to_s, 3);
  EXPECT_EQ(s->facts.warnings, std::vector<std::string>{"hot"});
  ASSERT_EQ(s->aggregate.size(), 3u);
  EXPECT_EQ(s->aggregate[1].requests, 25);
  EXPECT_EQ(s->aggregate[1].failures, 2);
  EXPECT_EQ(TotalCount(s->aggregate[1].latency_us), 25);
  EXPECT_EQ(PercentileOf(s->aggregate[1].latency_us, 100), 5003);  // 5 ms bucket's top
  ASSERT_EQ(s->endpoints.size(), 2u);
  const Series& a = s->endpoints.at("GET /a, b");
  ASSERT_EQ(a.size(), 3u);  // aligned with the timeline; t = 2 empty
  EXPECT_EQ(a[0].requests, 10);
  EXPECT_EQ(a[1].requests, 20);
  EXPECT_EQ(a[2].requests, 0);
  EXPECT_EQ(s->endpoints.at("other")[0].requests, 0);
  EXPECT_EQ(s->totals.at("GET /a, b").failures, 3);
}

// 1300 seconds are read in units of 3 (at most 600 units), never across the
// steady window's edges: [0, 1) ramp, [1, 1300) steady.
TEST(RunSamplesFromTest, ALongRunIsReadInUnits) {
  Result<Plan> plan = ParsePlan(
      R"({"target":"http://127.0.0.1:1","users":10,"spawn_rate":10,"duration":"1300s"})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string timeline;
  IntervalLog log;
  HdrHistogram h = HdrHistogram::ForLatencyMicros();
  h.RecordN(1000, 2);
  for (int t = 0; t < 1300; ++t) {
    timeline += (t ? "," : "") + std::string(R"({"t":)") + std::to_string(t) +
                R"(,"requests":2,"failures":0})";
    log.Add(t, "x", h);
  }
  std::string run = R"({"id":"r1","state":"finished","plan":)" + PlanToJson(*plan) +
                    R"(,"endpoints":[{"name":"x","requests":2600}],"timeline":[)" +
                    timeline + "]}";
  Result<RunSamples> s = RunSamplesFrom(run, log.Format(1.7e9));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->aggregate.size(), 1u + 433u);  // the ramp second, 433 units of [1, 1300)
  EXPECT_EQ(s->aggregate[0].t, 0);
  EXPECT_EQ(s->aggregate[0].seconds, 1);
  EXPECT_EQ(s->aggregate[1].t, 1);
  EXPECT_EQ(s->aggregate[1].seconds, 3);
  EXPECT_EQ(s->aggregate[1].requests, 6);
  EXPECT_EQ(TotalCount(s->aggregate[1].latency_us), 6);
  EXPECT_EQ(s->aggregate.back().t, 1297);  // [1297, 1300)
  EXPECT_EQ(s->aggregate.back().seconds, 3);
  CompareResult r = CompareRuns(*s, *s, {});
  EXPECT_EQ(r.base_seconds, 1299u);
  for (const MetricResult& m : r.aggregated.metrics) {
    EXPECT_EQ(m.verdict, Verdict::kNoChange) << m.key;
  }
  EXPECT_DOUBLE_EQ(r.aggregated.metrics[0].base, 2.0);  // rps per second, not per unit
}

TEST(RunSamplesFromTest, ADamagedHistogramIsAnError) {
  Result<Plan> plan = ParsePlan(R"({"target":"http://127.0.0.1:1","users":1})");
  ASSERT_TRUE(plan.ok());
  std::string run = R"({"id":"r1","plan":)" + PlanToJson(*plan) +
                    R"(,"endpoints":[{"name":"x"}],"timeline":[{"t":0}]})";
  Result<RunSamples> s = RunSamplesFrom(run, "Tag=x,0.000,1.000,1.0,HISTnotbase64!\n");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("damaged"), std::string::npos);
}

}  // namespace
}  // namespace loadd
