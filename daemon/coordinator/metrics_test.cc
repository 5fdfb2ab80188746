#include "daemon/coordinator/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "common/clock.h"
#include "common/plan.h"
#include "common/wire_stats.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/run_store.h"

namespace loadd {
namespace {

TEST(MetricsFormatTest, SampleValues) {
  const std::pair<double, const char*> cases[] = {
      {0, "0"},
      {42, "42"},
      {-3, "-3"},
      {0.001, "0.001"},
      {0.25, "0.25"},
      {1e15, "1000000000000000"},
      {1.5e20, "1.5e+20"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const auto& [value, want] : cases)
    EXPECT_EQ(FormatSampleValue(value), want) << value;
}

TEST(MetricsFormatTest, LabelValuesEscapeBackslashQuoteAndLineFeed) {
  const std::pair<const char*, const char*> cases[] = {
      {"GET /a", "GET /a"},
      {R"(a\b)", R"(a\\b)"},
      {R"(say "hi")", R"(say \"hi\")"},
      {"two\nlines", R"(two\nlines)"},
      {"tab\tstays", "tab\tstays"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(EscapeLabelValue(in), want) << in;
}

TEST(MetricsBucketsTest, CumulativeCountsAtTheBounds) {
  HdrHistogram h = HdrHistogram::ForLatencyMicros();
  h.Record(50);          // <= 100 us
  h.Record(100);         // exactly on a bound: counted in it
  h.RecordN(900, 3);     // <= 1 ms
  h.Record(20'000);      // <= 25 ms
  h.Record(90'000'000);  // 90 s: only +Inf
  LatencyBuckets b = BucketsOf(h);
  std::map<int64_t, int64_t> want = {{100, 2},    {250, 2},    {500, 2},       {1'000, 5},
                                     {10'000, 5}, {25'000, 6}, {60'000'000, 6}};
  for (size_t i = 0; i < kLatencyBucketBoundsUs.size(); ++i) {
    auto it = want.find(kLatencyBucketBoundsUs[i]);
    if (it != want.end()) {
      EXPECT_EQ(b.cumulative[i], it->second) << it->first;
    }
    if (i > 0) {
      EXPECT_GE(b.cumulative[i], b.cumulative[i - 1]);
    }
  }
  EXPECT_EQ(b.count, 7);
  EXPECT_NEAR(b.sum_seconds, (50 + 100 + 2700 + 20'000 + 90'000'000) / 1e6, 0.1);
}

TEST(MetricsBucketsTest, EmptyHistogramHasZeroBuckets) {
  LatencyBuckets b = BucketsOf(HdrHistogram::ForLatencyMicros());
  for (int64_t c : b.cumulative) EXPECT_EQ(c, 0);
  EXPECT_EQ(b.count, 0);
  EXPECT_EQ(b.sum_seconds, 0);
}

// The rules of text format 0.0.4 the exposition must follow: every sample
// belongs to a family announced by HELP then TYPE, each family once and its
// samples together, histogram buckets cumulative and ending in +Inf ==
// _count. Returns sample lines by series ("name{labels}" -> value).
std::map<std::string, std::string> CheckExposition(const std::string& text) {
  static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$)");
  std::map<std::string, std::string> samples;
  std::set<std::string> families;
  std::string family, type;
  std::string last_help;
  std::istringstream in(text);
  std::string line;
  int64_t previous_bucket = -1;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      last_help = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      words >> family >> type;
      EXPECT_EQ(family, last_help) << "TYPE without its HELP: " << line;
      EXPECT_TRUE(families.insert(family).second) << "family twice: " << family;
      EXPECT_TRUE(type == "gauge" || type == "counter" || type == "histogram") << line;
      previous_bucket = -1;
      continue;
    }
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, kSample)) << "not a sample: " << line;
    if (m.empty()) continue;
    std::string name = m[1];
    if (type == "histogram") {
      EXPECT_TRUE(name == family + "_bucket" || name == family + "_sum" ||
                  name == family + "_count")
          << name << " outside " << family;
      if (name == family + "_bucket") {
        int64_t v = std::stoll(m[3]);
        bool first = m[2].str().find("le=\"0.0001\"") != std::string::npos;
        if (!first) {
          EXPECT_GE(v, previous_bucket) << line;
        }
        previous_bucket = v;
      }
      if (name == family + "_count") {
        EXPECT_EQ(std::stoll(m[3]), previous_bucket) << line;
      }
    } else {
      EXPECT_EQ(name, family) << "sample outside its family";
    }
    samples[m[1].str() + m[2].str()] = m[3];
  }
  return samples;
}

RunMetrics SampleRun() {
  RunMetrics r;
  r.id = "r1-ab";
  r.name = "demo \"quoted\"";
  r.state = RunState::kRunning;
  r.users = 7;
  r.target_users = 10;
  r.rps = 12.5;
  r.dropped = 3;
  HdrHistogram h = HdrHistogram::ForLatencyMicros();
  h.RecordN(2'000, 4);
  EndpointMetrics e{"GET /a\\b\n", 4, 1, 100, {}, BucketsOf(h)};
  e.errors[static_cast<int>(ErrorKind::kStatus)] = 1;
  r.endpoints = {e};
  r.aggregated = e;
  r.aggregated.name = "Aggregated";
  return r;
}

TEST(MetricsRenderTest, FleetAndRunFollowTheFormat) {
  FleetMetrics f;
  f.version = "0.1.0";
  f.hosts["h1"] = HostMetrics{1, 2, 1, 150};
  f.runs_by_state[static_cast<int>(RunState::kFinished)] = 4;
  f.runs_by_state[static_cast<int>(RunState::kRunning)] = 1;
  f.newest_run = std::make_shared<RunMetrics>(SampleRun());
  std::map<std::string, std::string> s = CheckExposition(RenderMetrics(f));

  const std::pair<const char*, const char*> want[] = {
      {R"(loadd_coordinator_info{version="0.1.0"})", "1"},
      {R"(loadd_workers{host="h1",state="idle"})", "1"},
      {R"(loadd_workers{host="h1",state="busy"})", "2"},
      {R"(loadd_workers{host="h1",state="lost"})", "1"},
      {R"(loadd_host_cpu_percent{host="h1"})", "50"},
      {R"(loadd_runs{state="finished"})", "4"},
      {R"(loadd_runs{state="interrupted"})", "0"},
      {R"(loadd_run_info{run="r1-ab",name="demo \"quoted\"",state="running"})", "1"},
      {R"(loadd_run_active{run="r1-ab"})", "1"},
      {R"(loadd_run_users{run="r1-ab"})", "7"},
      {R"(loadd_run_rps{run="r1-ab"})", "12.5"},
      {R"(loadd_run_requests_total{run="r1-ab"})", "4"},
      {R"(loadd_run_errors_total{run="r1-ab",kind="status"})", "1"},
      {R"(loadd_run_errors_total{run="r1-ab",kind="connect"})", "0"},
      {R"(loadd_run_dropped_total{run="r1-ab"})", "3"},
      {R"(loadd_run_latency_seconds_bucket{run="r1-ab",le="0.001"})", "0"},
      {R"(loadd_run_latency_seconds_bucket{run="r1-ab",le="0.0025"})", "4"},
      {R"(loadd_run_latency_seconds_bucket{run="r1-ab",le="+Inf"})", "4"},
      {R"(loadd_run_latency_seconds_count{run="r1-ab"})", "4"},
      {R"(loadd_endpoint_requests_total{run="r1-ab",endpoint="GET /a\\b\n"})", "4"},
      {R"(loadd_endpoint_errors_total{run="r1-ab",endpoint="GET /a\\b\n",kind="status"})",
       "1"},
      {R"(loadd_endpoint_latency_seconds_bucket{run="r1-ab",endpoint="GET /a\\b\n",le="60"})",
       "4"},
  };
  for (const auto& [series, value] : want) {
    auto it = s.find(series);
    ASSERT_NE(it, s.end()) << "missing " << series;
    EXPECT_EQ(it->second, value) << series;
  }
  EXPECT_EQ(
      s.count(
          R"(loadd_endpoint_errors_total{run="r1-ab",endpoint="GET /a\\b\n",kind="io"})"),
      0u)
      << "per endpoint, only error kinds that occurred";
  EXPECT_EQ(s.count(R"(loadd_run_thresholds_passed{run="r1-ab"})"), 0u)
      << "not ended yet";
}

TEST(MetricsRenderTest, NoRunYetHasOnlyTheFleet) {
  FleetMetrics f;
  f.version = "0.1.0";
  std::map<std::string, std::string> s = CheckExposition(RenderMetrics(f));
  EXPECT_EQ(s.size(), 1u + 1u + 9u);  // info, refused stats, and runs by each state
  for (const auto& [series, value] : s)
    EXPECT_EQ(series.rfind("loadd_run_", 0), std::string::npos);
}

class NullBus : public FleetBus {
 public:
  void SendTo(uint32_t, const std::string&) override {}
};

class CoordinatorMetricsTest : public ::testing::Test {
 protected:
  void Register(uint32_t pipe, const std::string& host, int64_t instance) {
    coordinator_.OnConnect(pipe);
    coordinator_.OnMessage(
        pipe, EncodeMessage(HelloMsg{host, instance, instance, 2, 100, "t", ""}));
  }
  void SendStats(uint32_t pipe, const std::string& run_id, int64_t requests, bool final) {
    StatsMsg stats;
    stats.run_id = run_id;
    stats.final = final;
    EndpointStats e;
    e.name = "GET /x";
    e.requests = requests;
    e.failures = 1;
    e.errors[static_cast<int>(ErrorKind::kTimeout)] = 1;
    for (int64_t i = 0; i < requests; ++i) e.latency_us.Record(3'000);
    stats.endpoints.push_back(e);
    coordinator_.OnMessage(pipe, EncodeMessage(stats));
  }

  NullBus bus_;
  FakeClock clock_{1'000'000'000'000};
  MemoryRunStore store_;
  Coordinator coordinator_{&bus_, &clock_, CoordinatorConfig{}, &store_};
};

TEST_F(CoordinatorMetricsTest, FleetAndNewestRunFromStartToStore) {
  Register(1, "a", 0);
  Register(2, "b", 0);
  Register(3, "b", 1);
  EXPECT_EQ(coordinator_.Metrics().newest_run, nullptr);

  Result<std::string> created = coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/x", "users": 3, "spawn_rate": 3, "duration": "2s"})");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::string id = created->substr(created->find("\"id\":\"") + 6);
  id = id.substr(0, id.find('"'));
  clock_.AdvanceNs(1'500'000'000);
  coordinator_.Tick();
  SendStats(1, id, 10, false);
  SendStats(2, id, 20, false);

  FleetMetrics m = coordinator_.Metrics();
  EXPECT_EQ(m.hosts["a"].busy, 1);
  EXPECT_EQ(m.hosts["b"].busy, 2);
  EXPECT_EQ(m.hosts["b"].lost, 0);
  EXPECT_EQ(m.runs_by_state[static_cast<int>(RunState::kRunning)], 1);
  ASSERT_NE(m.newest_run, nullptr);
  EXPECT_EQ(m.newest_run->id, id);
  EXPECT_EQ(m.newest_run->aggregated.requests, 30);
  EXPECT_EQ(m.newest_run->aggregated.failures, 2);
  EXPECT_EQ(m.newest_run->aggregated.errors[static_cast<int>(ErrorKind::kTimeout)], 2);
  EXPECT_EQ(m.newest_run->aggregated.latency.count, 30);
  ASSERT_EQ(m.newest_run->endpoints.size(), 1u);
  EXPECT_EQ(m.newest_run->endpoints[0].name, "GET /x");

  ASSERT_TRUE(coordinator_.StopRun(id).ok());
  SendStats(1, id, 1, true);
  SendStats(2, id, 1, true);
  SendStats(3, id, 1, true);
  coordinator_.Tick();
  // The ended run is written and dropped from memory; its metrics stay.
  for (int i = 0; i < 3; ++i) {
    clock_.AdvanceNs(1'000'000'000);
    coordinator_.Tick();
    coordinator_.Persist();
  }
  m = coordinator_.Metrics();
  EXPECT_EQ(m.runs_by_state[static_cast<int>(RunState::kStopped)], 1);
  EXPECT_EQ(m.runs_by_state[static_cast<int>(RunState::kRunning)], 0);
  EXPECT_EQ(m.hosts["b"].idle, 2);
  ASSERT_NE(m.newest_run, nullptr);
  EXPECT_EQ(m.newest_run->state, RunState::kStopped);
  EXPECT_EQ(m.newest_run->aggregated.requests, 33);
  EXPECT_EQ(m.newest_run->aggregated.latency.count, 33);
}

// A restarted coordinator has the newest run only on its store: its metrics
// are read back from there (and its state from the stored summary).
TEST_F(CoordinatorMetricsTest, RestartedCoordinatorExportsTheStoredNewestRun) {
  Register(1, "a", 0);
  Result<std::string> created = coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/x", "users": 1, "duration": "1s"})");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::string id = created->substr(created->find("\"id\":\"") + 6);
  id = id.substr(0, id.find('"'));
  clock_.AdvanceNs(1'500'000'000);
  coordinator_.Tick();
  SendStats(1, id, 12, true);
  coordinator_.Tick();
  coordinator_.Persist();

  Coordinator restarted(&bus_, &clock_, CoordinatorConfig{}, &store_);
  ASSERT_TRUE(restarted.LoadStoredRuns().ok());
  FleetMetrics m = restarted.Metrics();
  EXPECT_TRUE(m.hosts.empty());
  EXPECT_EQ(m.runs_by_state[static_cast<int>(RunState::kFinished)], 1);
  ASSERT_NE(m.newest_run, nullptr);
  EXPECT_EQ(m.newest_run->id, id);
  EXPECT_EQ(m.newest_run->state, RunState::kFinished);
  EXPECT_EQ(m.newest_run->aggregated.requests, 12);
  EXPECT_EQ(m.newest_run->aggregated.latency.count, 12);
  EXPECT_EQ(m.newest_run->aggregated.latency.cumulative[5], 12) << "3 ms <= 5 ms";
  EXPECT_EQ(restarted.Metrics().newest_run, m.newest_run) << "an ended run is read once";
}

// Regression: a plan whose checks carry long values (a 2,000-byte
// body_contains, a 2,000-byte body_regex) gave check names over the stats
// wire bound; the coordinator refused every stats message of the worker, so
// the run's totals missed its requests. Now the names fit and the requests
// are counted; a message still over a bound is refused and counted.
TEST_F(CoordinatorMetricsTest, StatsOfAPlanWithLongCheckValuesAreCounted) {
  const std::string plan_json =
      R"({"target": "http://127.0.0.1:9", "users": 1, "duration": "2s",
          "scenarios": [{"steps": [{"name": "s", "path": "/x", "checks": [
            {"body_contains": ")" +
      std::string(2000, 'a') + R"("}, {"body_regex": "[)" + std::string(1998, 'b') +
      R"(]"}]}]}]})";
  Result<Plan> plan = ParsePlan(plan_json);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  Register(1, "a", 0);
  Result<std::string> created = coordinator_.CreateRun(plan_json);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::string id = created->substr(created->find("\"id\":\"") + 6);
  id = id.substr(0, id.find('"'));
  clock_.AdvanceNs(1'500'000'000);
  coordinator_.Tick();
  const int64_t refused = RefusedBinaryStats();

  // What the worker sends: its stats row and check counts, by their names.
  auto stats_with = [&](const std::string& check_suffix) {
    StatsMsg stats;
    stats.run_id = id;
    EndpointStats e;
    e.name = plan->scenarios[0].steps[0].name;
    e.requests = 7;
    for (int i = 0; i < 7; ++i) e.latency_us.Record(3'000);
    stats.endpoints.push_back(e);
    for (const Check& c : plan->scenarios[0].steps[0].checks) {
      stats.checks.push_back(CheckCount{c.name + check_suffix, 7, 0});
    }
    return EncodeMessage(stats);
  };
  coordinator_.OnMessage(1, stats_with(""));
  FleetMetrics m = coordinator_.Metrics();
  ASSERT_NE(m.newest_run, nullptr);
  EXPECT_EQ(m.newest_run->aggregated.requests, 7);
  EXPECT_EQ(m.stats_refused, refused);

  // A name over the wire bound (as before the fix) is refused, and counted.
  coordinator_.OnMessage(1, stats_with(std::string(kMaxStatsCheckNameBytes, 'z')));
  m = coordinator_.Metrics();
  EXPECT_EQ(m.newest_run->aggregated.requests, 7);
  EXPECT_EQ(m.stats_refused, refused + 1);
  EXPECT_NE(RenderMetrics(m).find("loadd_bus_stats_refused_total " +
                                  std::to_string(refused + 1) + "\n"),
            std::string::npos);
}

}  // namespace
}  // namespace loadd
