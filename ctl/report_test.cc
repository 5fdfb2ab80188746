#include "ctl/report.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/json.h"
#include "ctl/progress.h"
#include "ctl/table.h"
#include "ctl/test_runs.h"

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

// The open model: corrected latency beside the service time, dropped
// arrivals, a CPU warning, two lost workers.
constexpr char kOpenRun[] = R"({
  "id": "r3", "name": "open", "state": "finished", "message": "",
  "elapsed_s": 20.0, "duration_s": 20.0,
  "plan": {"name": "open", "arrival_rate": 500, "duration": "20s", "max_in_flight": 1000},
  "users": 0, "target_users": 0,
  "workers": [{"id": "h/0", "state": "done"},
              {"id": "h/1", "state": "lost", "lost_at_s": 3.2},
              {"id": "h/2", "state": "lost", "lost_at_s": 75}],
  "totals": {"requests": 9000, "failures": 0, "rps": 450, "dropped": 1000,
             "errors": {"connect": 0}},
  "warnings": [{"kind": "cpu", "worker": "h/0", "from_s": 3, "to_s": 9,
                "max_cpu_percent": 97.2,
                "message": "worker h/0 used 97% CPU from 3s to 9s"}],
  "endpoints": [
    {"name": "GET /a", "requests": 6000, "failures": 0, "rps": 300,
     "min_us": 1000, "mean_us": 50000, "p50_us": 2000, "p90_us": 150000,
     "p95_us": 300000, "p99_us": 900000, "p999_us": 1500000, "max_us": 2000000,
     "service": {"min_us": 900, "mean_us": 1500, "p50_us": 1200, "p90_us": 2000,
                 "p95_us": 2500, "p99_us": 5000, "p999_us": 9000, "max_us": 12000}},
    {"name": "GET /b", "requests": 3000, "failures": 0, "rps": 150,
     "min_us": 1000, "mean_us": 50000, "p50_us": 2000, "p90_us": 150000,
     "p95_us": 300000, "p99_us": 900000, "p999_us": 1500000, "max_us": 2000000}],
  "aggregated": {"name": "Aggregated", "requests": 9000, "failures": 0, "rps": 450,
     "min_us": 1000, "mean_us": 50000, "p50_us": 2000, "p90_us": 150000,
     "p95_us": 300000, "p99_us": 900000, "p999_us": 1500000, "max_us": 2000000,
     "service": {"min_us": 900, "mean_us": 1500, "p50_us": 1200, "p90_us": 2000,
                 "p95_us": 2500, "p99_us": 5000, "p999_us": 9000, "max_us": 12000}}
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

TEST(FormatReportTest, OpenModelShowsServiceTimeDroppedLostAndWarnings) {
  EXPECT_EQ(FormatReport(Parse(kOpenRun)),
            "Run r3  open  finished  20.0s  arrival rate 500/s  3 workers\n"
            "Latency counts from each iteration's intended start (coordinated omission "
            "corrected).\n"
            "Name        Requests  Fails    RPS     Min    Mean     p50      p90      p95"
            "      p99  p99.9    Max\n"
            "GET /a          6000      0  300.0  1.00ms  50.0ms  2.00ms  150.0ms  300.0ms"
            "  900.0ms  1.50s  2.00s\n"
            "GET /b          3000      0  150.0  1.00ms  50.0ms  2.00ms  150.0ms  300.0ms"
            "  900.0ms  1.50s  2.00s\n"
            "Aggregated      9000      0  450.0  1.00ms  50.0ms  2.00ms  150.0ms  300.0ms"
            "  900.0ms  1.50s  2.00s\n"
            "Service time (uncorrected, from sending)\n"
            "Name          Min    Mean     p50     p90     p95     p99   p99.9     Max\n"
            "GET /a      900us  1.50ms  1.20ms  2.00ms  2.50ms  5.00ms  9.00ms  12.0ms\n"
            "Aggregated  900us  1.50ms  1.20ms  2.00ms  2.50ms  5.00ms  9.00ms  12.0ms\n"
            "Errors: none\n"
            "Dropped iterations: 1000 (max_in_flight reached)\n"
            "Lost workers: h/1 at 3.2s, h/2 at 1m15s\n"
            "Warnings:\n"
            "  worker h/0 used 97% CPU from 3s to 9s\n");
}

TEST(FormatRunSummaryTest, OpenModelNotes) {
  EXPECT_EQ(FormatRunSummary(Parse(kOpenRun)),
            "Run r3  open  finished  20.0s  arrival rate 500/s  3 workers\n"
            "Requests 9000  Failures 0 (0.00%)  RPS 450.0  p50 2.00ms  p95 300.0ms  p99 "
            "900.0ms  Max 2.00s\n"
            "Errors: none\n"
            "Dropped iterations: 1000 (max_in_flight reached)\n"
            "Lost workers: h/1 at 3.2s, h/2 at 1m15s\n"
            "Warnings:\n"
            "  worker h/0 used 97% CPU from 3s to 9s\n");
}

// Each addition alone: the report's extra lines appear only when there is
// something to say.
TEST(FormatReportTest, ExtraSectionsOnlyWhenPresent) {
  struct Case {
    const char* label;
    void (*edit)(RunView*);
    std::vector<const char*> present;
    std::vector<const char*> absent;
  };
  const Case kCases[] = {
      {"closed run",
       [](RunView*) {},
       {"Errors: status 3\n"},
       {"Service time", "coordinated omission", "Dropped", "Lost workers", "Warnings"}},
      {"one dropped iteration",
       [](RunView* r) { r->dropped = 1; },
       {"\nDropped iterations: 1 (max_in_flight reached)\n"},
       {"Service time"}},
      {"service on one endpoint only",
       [](RunView* r) {
         r->endpoints[0].has_service = true;
         r->endpoints[0].service.p95_us = 1500;
       },
       {"\nService time (uncorrected, from sending)\nName             Min",
        "coordinated omission corrected",
        "\nGET /delay/20ms  0us   0us  0us  0us  1.50ms  0us    0us  0us\nErrors:"},
       {"\nAggregated       0us"}},
      {"one lost worker",
       [](RunView* r) {
         r->lost_workers.push_back({"h/9", 0.4});
       },
       {"\nLost workers: h/9 at 0.4s\n"},
       {"Dropped"}},
      {"two warnings",
       [](RunView* r) {
         r->warnings = {"first", "second"};
       },
       {"\nWarnings:\n  first\n  second\n"},
       {"Lost workers"}},
  };
  for (const Case& c : kCases) {
    RunView run = Parse(kFinishedRun);
    c.edit(&run);
    std::string report = FormatReport(run);
    for (const char* text : c.present) {
      EXPECT_NE(report.find(text), std::string::npos) << c.label << ": " << text << "\n"
                                                      << report;
    }
    for (const char* text : c.absent) {
      EXPECT_EQ(report.find(text), std::string::npos) << c.label << ": " << text << "\n"
                                                      << report;
    }
  }
}

TEST(ParseRunViewTest, ReadsTheLoadModelFromThePlan) {
  struct Case {
    const char* plan;
    bool open_model;
    double arrival_rate;
    int64_t max_in_flight;
    int64_t expect_workers;
    const char* header_load;
  };
  const Case kCases[] = {
      {R"({"users": 200, "spawn_rate": 200})", false, 0, 0, 0, "200 users"},
      {R"({"users": 1, "expect_workers": 3, "expect_timeout": "5s"})", false, 0, 0, 3,
       "200 users"},
      {R"({"arrival_rate": 2.5, "max_in_flight": 10})", true, 2.5, 10, 0,
       "arrival rate 2.5/s"},
      {R"({"start_rate": 5, "stages": [{"duration": "5s", "rate": 400},
           {"duration": "5s", "rate": 100}], "max_in_flight": 1000})",
       true, 400, 1000, 0, "arrival rate 400/s"},
      {R"({"start_rate": 50, "stages": [{"duration": "5s", "rate": 0}]})", true, 50, 0, 0,
       "arrival rate 50/s"},
      {R"({"stages": [{"duration": "5s", "users": 10}]})", false, 0, 0, 0, "200 users"},
      {R"("not an object")", false, 0, 0, 0, "200 users"},
  };
  for (const Case& c : kCases) {
    std::string json =
        R"({"id": "r1", "state": "running", "target_users": 200, "plan": )" +
        std::string(c.plan) + "}";
    RunView run = Parse(json.c_str());
    EXPECT_EQ(run.open_model, c.open_model) << c.plan;
    EXPECT_DOUBLE_EQ(run.arrival_rate, c.arrival_rate) << c.plan;
    EXPECT_EQ(run.max_in_flight, c.max_in_flight) << c.plan;
    EXPECT_EQ(run.expect_workers, c.expect_workers) << c.plan;
    EXPECT_EQ(FormatLoad(run), c.header_load) << c.plan;
  }
}

TEST(FormatRateTest, DropsNeedlessDecimals) {
  const std::pair<double, const char*> kCases[] = {
      {0, "0/s"}, {500, "500/s"}, {2.5, "2.5/s"}, {0.25, "0.25/s"}, {1e7, "10000000/s"}};
  for (const auto& [rate, text] : kCases) EXPECT_EQ(FormatRate(rate), text) << rate;
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

// Live scaling: each change of the run, under "Changes", in the terminal
// and the HTML report.
TEST(FormatRunSummaryTest, ScaleEventsAreListedAsChanges) {
  std::string json = kFinishedRun;
  json.insert(json.rfind('}'),
              R"(, "events": [{"kind": "scale", "by": "ci", "requested_ms": 4000,
                  "at_ms": 4300, "unit": "users", "from": 100, "to": 300,
                  "ramp_rate": 100},
                 {"kind": "scale", "by": "", "requested_ms": 5000, "at_ms": 5300,
                  "unit": "rate", "from": 200, "to": 600, "ramp_rate": 0}])");
  RunView run = Parse(json.c_str());
  ASSERT_EQ(run.events.size(), 2u);
  std::string text = FormatRunSummary(run);
  EXPECT_NE(text.find("Changes:\n  users 100 -> 300 at 100/s from 4.3s (by ci)\n"
                      "  arrivals/s 200 -> 600 at once from 5.3s\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(FormatRunSummary(Parse(kFinishedRun)).find("Changes"), std::string::npos);
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
      {"loadhost1/0",
       "loadhost1",
       "idle",
       0,
       0,
       3.5,
       420,
       {{"pool", "eu"}, {"rack", "3"}}},
      {"loadhost1/1", "loadhost1", "lost", 1, 50, 0, 81200, {}}};
  EXPECT_EQ(FormatWorkersTable(workers),
            "ID           HOST       CPU  STATE  USERS  CPU%  LAST SEEN  LABELS\n"
            "loadhost1/0  loadhost1    0  idle       0   3.5  420ms ago  pool=eu,rack=3\n"
            "loadhost1/1  loadhost1    1  lost      50   0.0  1m21s ago  -\n");
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

TEST(ProgressTrackerTest, WaitingRunShowsHaveAndWant) {
  RunView run = Parse(R"({"id": "r1", "state": "waiting", "duration_s": 20,
                          "plan": {"users": 10, "expect_workers": 3}})");
  const std::pair<int64_t, const char*> kCases[] = {
      {1, "waiting for workers (have 1, want 3)"},
      {0, "waiting for workers (have 0, want 3)"},
      {-1, "waiting for workers (have ?, want 3)"},  // /healthz did not answer
  };
  ProgressTracker tracker(0);
  for (const auto& [live, line] : kCases) {
    EXPECT_EQ(tracker.Update(run, kNsPerSec, live), line) << live;
  }
}

TEST(ProgressTrackerTest, OpenModelShowsInFlightAndDropped) {
  RunView run = Parse(kOpenRun);
  run.state = "running";
  run.users = 37;
  ProgressTracker tracker(0);
  EXPECT_EQ(
      tracker.Update(run, kNsPerSec),
      "running  20.0s/20.0s  in flight 37/1000  rps 9000.0  p95 300.0ms  failures 0  "
      "dropped 1000  workers 3");
}

TEST(ProgressTrackerTest, EachWarningIsNewOnce) {
  RunView run = Parse(kOpenRun);
  ProgressTracker tracker(0);
  EXPECT_EQ(tracker.NewWarnings(run),
            std::vector<std::string>{"worker h/0 used 97% CPU from 3s to 9s"});
  run.warnings[0] = "worker h/0 used 99% CPU from 3s to 12s";  // the episode grew
  EXPECT_TRUE(tracker.NewWarnings(run).empty());
  run.warnings.push_back("worker h/1 used 95% CPU from 14s to 14s");
  EXPECT_EQ(tracker.NewWarnings(run),
            std::vector<std::string>{"worker h/1 used 95% CPU from 14s to 14s"});
  EXPECT_TRUE(tracker.NewWarnings(run).empty());
}

TEST(ProgressTrackerTest, TimelineEntryWinsWhenPresent) {
  RunView run = Parse(kFinishedRun);  // its newest timeline entry says 1900 rps
  ProgressTracker tracker(0);
  EXPECT_NE(tracker.Update(run, kNsPerSec).find("rps 1900.0"), std::string::npos);
}

TEST(FormatReportTest, EndsWithChecksAndTheThresholdsVerdict) {
  std::string report = FormatReport(ParseTestRun(kCiRunJson));
  size_t errors = report.find("Errors: status 30\n");
  ASSERT_NE(errors, std::string::npos) << report;
  EXPECT_EQ(report.substr(errors),
            "Errors: status 30\n"
            "Checks:\n"
            "Name                       Passed  Failed  Pass rate\n"
            "login: status is 200 <&\">     990      10     99.00%\n"
            "cart: body has id            2000       0    100.00%\n"
            "Thresholds: 1 of 2 failed\n"
            "Result  Threshold        Condition  Actual\n"
            "PASS    http.p95         <250ms     5.00ms\n"
            "FAIL    http.error_rate  <0.5%       1.00%\n");
}

TEST(FormatReportTest, ThresholdsHeadSaysAllPassedOrNotDecided) {
  struct Case {
    const char* label;
    const char* json;
    const char* want;  // the Thresholds part
  };
  const Case kCases[] = {
      {"all passed", R"({"id": "r1", "state": "finished", "thresholds_passed": true,
          "thresholds": [{"key": "http.p95", "condition": "<1s", "actual": 20815,
                          "passed": true}]})",
       "Thresholds: all 1 passed\n"
       "Result  Threshold  Condition  Actual\n"
       "PASS    http.p95   <1s        20.8ms\n"},
      {"running, nothing measured", R"({"id": "r1", "state": "running",
          "thresholds_passed": null,
          "thresholds": [{"key": "checks.pass_rate", "condition": ">99%", "actual": null,
                          "passed": false, "message": "no checks ran"}]})",
       "Thresholds: 1 of 1 failed so far (the run is still going)\n"
       "Result  Threshold         Condition             Actual\n"
       "FAIL    checks.pass_rate  >99%       - (no checks ran)\n"},
      {"no thresholds: no section", R"({"id": "r1", "state": "finished",
          "thresholds_passed": true, "thresholds": [], "checks": []})",
       ""},
  };
  for (const Case& c : kCases) {
    std::string report = FormatReport(ParseTestRun(c.json));
    size_t at = report.find("Thresholds:");
    EXPECT_EQ(at == std::string::npos ? "" : report.substr(at), c.want) << c.label;
    EXPECT_EQ(report.find("Checks:"), std::string::npos) << c.label;
  }
}

}  // namespace
}  // namespace loadd
