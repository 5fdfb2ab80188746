#include "ctl/report.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/json.h"
#include "ctl/progress.h"
#include "ctl/table.h"

namespace loadd {
namespace {

constexpr char kFinishedRun[] = R"({
  "id": "r1700000000-3f2a", "name": "demo", "state": "finished", "message": "",
  "created_at": "2026-11-23T01:02:03Z", "elapsed_s": 5.0, "duration_s": 5.0,
  "users": 200, "target_users": 200,
  "workers": [{"id": "h/0"}, {"id": "h/1"}],
  "totals": {"requests": 9512, "failures": 3, "rps": 1902.4,
             "errors": {"connect": 0, "timeout": 0, "status": 3}},
  "endpoints": [
    {"name": "GET /delay/20ms", "requests": 9512, "failures": 3, "rps": 1902.4,
     "min_us": 20051, "mean_us": 20410.3, "p50_us": 20351, "p90_us": 20687,
     "p95_us": 20815, "p99_us": 21055, "p999_us": 21503, "max_us": 22015}],
  "aggregated": {"name": "Aggregated", "requests": 9512, "failures": 3, "rps": 1902.4,
     "min_us": 20051, "mean_us": 20410.3, "p50_us": 20351, "p90_us": 20687,
     "p95_us": 20815, "p99_us": 21055, "p999_us": 21503, "max_us": 22015},
  "timeline": [{"t": 0, "rps": 1802}, {"t": 1, "rps": 1900}]
})";

RunView Parse(const char* json) {
  rapidjson::Document doc;
  EXPECT_TRUE(ParseJson(json, &doc).ok());
  RunView run;
  Status status = ParseRunView(doc, &run);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return run;
}

TEST(FormatReportTest, LooksLikeLocust) {
  EXPECT_EQ(
      FormatReport(Parse(kFinishedRun)),
      "Run r1700000000-3f2a  demo  finished  5.0s  200 users  2 workers\n"
      "Name             Requests  Fails     RPS     Min    Mean     p50     p90     p95"
      "     p99   p99.9     Max\n"
      "GET /delay/20ms      9512      3  1902.4  20.1ms  20.4ms  20.4ms  20.7ms  20.8ms"
      "  21.1ms  21.5ms  22.0ms\n"
      "Aggregated           9512      3  1902.4  20.1ms  20.4ms  20.4ms  20.7ms  20.8ms"
      "  21.1ms  21.5ms  22.0ms\n"
      "Errors: status 3\n");
}

TEST(FormatReportTest, NameColumnGrowsWithTheLongestName) {
  RunView run = Parse(kFinishedRun);
  run.endpoints[0].name = "POST /api/v1/orders/checkout";
  std::string report = FormatReport(run);
  EXPECT_NE(report.find("POST /api/v1/orders/checkout      9512"), std::string::npos)
      << report;
  EXPECT_NE(report.find("\nAggregated                        9512"), std::string::npos)
      << report;
}

TEST(FormatReportTest, FailedRunSaysWhyAndHasNoErrors) {
  RunView run = Parse(R"({"id": "r2", "state": "failed", "message": "all workers lost",
                          "users": 1, "workers": []})");
  std::string report = FormatReport(run);
  EXPECT_EQ(report.substr(0, report.find("Name")),
            "Run r2  failed  0.0s  1 user  0 workers\nMessage: all workers lost\n");
  EXPECT_NE(report.find("\nErrors: none\n"), std::string::npos);
}

TEST(ParseRunViewTest, RejectsAnswersWithoutIdOrState) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(R"({"name": "x"})", &doc).ok());
  RunView run;
  EXPECT_EQ(ParseRunView(doc, &run).code(), StatusCode::kInternal);
}

TEST(FormatSecondsTest, PicksAReadableForm) {
  const std::pair<double, const char*> kCases[] = {
      {0, "0.0s"},   {-3, "0.0s"},   {4.25, "4.2s"},     {59.9, "59.9s"},
      {60, "1m00s"}, {125, "2m05s"}, {3600, "1h00m00s"}, {3725.4, "1h02m05s"},
  };
  for (const auto& [seconds, text] : kCases) {
    EXPECT_EQ(FormatSeconds(seconds), text) << seconds;
  }
}

TEST(FormatRunSummaryTest, HeaderTotalsErrors) {
  EXPECT_EQ(
      FormatRunSummary(Parse(kFinishedRun)),
      "Run r1700000000-3f2a  demo  finished  5.0s  200 users  2 workers\n"
      "Created 2026-11-23T01:02:03Z\n"
      "Requests 9512  Failures 3 (0.03%)  RPS 1902.4  p50 20.4ms  p95 20.8ms  p99 21.1ms"
      "  Max 22.0ms\n"
      "Errors: status 3\n");
}

TEST(FormatRunsTableTest, OneRowPerRun) {
  std::vector<RunSummary> runs = {
      {"r2", "soak", "running", "2026-11-23T02:00:00Z", 1000, 3600, 123456, 7},
      {"r1", "", "finished", "2026-11-23T01:02:03Z", 200, 5, 9512, 0}};
  EXPECT_EQ(
      FormatRunsTable(runs),
      "ID  NAME  STATE     CREATED               USERS  DURATION  REQUESTS  FAILURES\n"
      "r2  soak  running   2026-11-23T02:00:00Z   1000  1h00m00s    123456         7\n"
      "r1        finished  2026-11-23T01:02:03Z    200      5.0s      9512         0\n");
}

TEST(FormatWorkersTableTest, OneRowPerWorker) {
  std::vector<WorkerView> workers = {
      {"loadhost1/0", "loadhost1", "idle", 0, 0, 3.5, 420},
      {"loadhost1/1", "loadhost1", "lost", 1, 50, 0, 81200}};
  EXPECT_EQ(FormatWorkersTable(workers),
            "ID           HOST       CPU  STATE  USERS  CPU%  LAST SEEN\n"
            "loadhost1/0  loadhost1    0  idle       0   3.5  420ms ago\n"
            "loadhost1/1  loadhost1    1  lost      50   0.0  1m21s ago\n");
}

TEST(TableTest, PadsToTheWidestCellAndTrimsTrailingBlanks) {
  Table table({{"A", Table::Align::kLeft},
               {"B", Table::Align::kRight},
               {"C", Table::Align::kLeft}});
  table.AddRow({"long", "1"});
  table.AddRow({"é", "22", "x"});
  EXPECT_EQ(table.Format(), "A      B  C\nlong   1\né     22  x\n");
}

TEST(ProgressTrackerTest, RateIsThisIntervalsGrowth) {
  struct Poll {
    int64_t at_ms;  // since the tracker started
    int64_t requests;
    const char* line;
  };
  const Poll kPolls[] = {
      {1000, 1800,
       "running  1.0s/5.0s  users 100/200  rps 1800.0  p95 20.8ms  failures 2  workers "
       "2"},
      {2000, 3700,
       "running  1.0s/5.0s  users 100/200  rps 1900.0  p95 20.8ms  failures 2  workers "
       "2"},
      {2500, 4700,
       "running  1.0s/5.0s  users 100/200  rps 2000.0  p95 20.8ms  failures 2  workers "
       "2"},
      {3500, 4700,
       "running  1.0s/5.0s  users 100/200  rps 0.0  p95 20.8ms  failures 2  workers 2"},
  };
  RunView run = Parse(kFinishedRun);
  run.state = "running";
  run.elapsed_s = 1;
  run.users = 100;
  run.failures = 2;
  run.has_timeline_entry = false;
  ProgressTracker tracker(0);
  for (const Poll& p : kPolls) {
    run.requests = p.requests;
    EXPECT_EQ(tracker.Update(run, p.at_ms * kNsPerMs), p.line) << p.at_ms;
  }
}

TEST(ProgressTrackerTest, TimelineEntryWinsWhenPresent) {
  RunView run = Parse(kFinishedRun);  // its newest timeline entry says 1900 rps
  ProgressTracker tracker(0);
  EXPECT_NE(tracker.Update(run, kNsPerSec).find("rps 1900.0"), std::string::npos);
}

}  // namespace
}  // namespace loadd
