#include "ctl/start_command.h"

#include <gtest/gtest.h>

#include "ctl/test_fakes.h"

namespace loadd {
namespace {

constexpr char kPlan[] = R"({"name": "demo", "users": 200, "duration": "3s",
  "requests": [{"url": "http://127.0.0.1:9000/delay/20ms"}]})";
constexpr char kCreated[] =
    R"({"id": "r1", "state": "running", "workers": 2, "users": 200})";
constexpr char kPollPath[] = "GET /v1/runs/r1?timeline=0";
constexpr char kFullPath[] = "GET /v1/runs/r1";

std::string RunJson(const char* state, double elapsed_s, int64_t requests) {
  return std::string(R"({"id": "r1", "name": "demo", "state": ")") + state +
         R"(", "elapsed_s": )" + std::to_string(elapsed_s) +
         R"(, "duration_s": 3, "users": 200, "target_users": 200, "workers": [{}, {}],
         "totals": {"requests": )" +
         std::to_string(requests) +
         R"(, "failures": 0, "rps": 1000, "errors": {}},
         "endpoints": [{"name": "GET /delay/20ms", "requests": )" +
         std::to_string(requests) +
         R"(, "p95_us": 20815}], "aggregated": {"requests": )" +
         std::to_string(requests) + R"(, "p95_us": 20815}})";
}

class StartCommandTest : public ::testing::Test {
 protected:
  StartCommandTest() {
    world_.files.files["plan.json"] = kPlan;
    options_.plan.plan_file = "plan.json";
  }
  // A run that is running for `running_polls` polls, then ends in `final_state`.
  void ScriptRun(int running_polls, const char* final_state) {
    world_.api.On("POST /v1/runs", 201, kCreated);
    for (int i = 1; i <= running_polls; ++i) {
      world_.api.On(kPollPath, 200, RunJson("running", i, 1000 * i));
    }
    world_.api.On(kPollPath, 200, RunJson(final_state, 3, 3000));
    world_.api.On(kFullPath, 200, RunJson(final_state, 3, 3000));
  }
  int Count(const std::string& request) const {
    return std::count(world_.api.requests.begin(), world_.api.requests.end(), request);
  }

  FakeWorld world_;
  Options options_;
};

TEST_F(StartCommandTest, WatchesToTheEndAndPrintsTheReport) {
  ScriptRun(2, "finished");
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, Outcome::kSuccess);
  EXPECT_EQ(world_.api.bodies[0],
            R"({"name":"demo","users":200,"duration":"3s",)"
            R"("requests":[{"url":"http://127.0.0.1:9000/delay/20ms"}]})");
  EXPECT_EQ(Count(kPollPath), 3);
  EXPECT_EQ(world_.waiter.sleeps, 3);  // one poll per second
  std::string out = world_.out.str();
  EXPECT_EQ(
      out.substr(0, out.find("\n\n")),
      "Run r1 started: 200 users on 2 workers\n"
      "running  1.0s/3.0s  users 200/200  rps 1000.0  p95 20.8ms  failures 0  workers 2\n"
      "running  2.0s/3.0s  users 200/200  rps 1000.0  p95 20.8ms  failures 0  workers 2\n"
      "finished  3.0s/3.0s  users 200/200  rps 1000.0  p95 20.8ms  failures 0  workers "
      "2");
  EXPECT_NE(out.find("\n\nRun r1  demo  finished  3.0s  200 users  2 workers\nName"),
            std::string::npos)
      << out;
  EXPECT_EQ(world_.err.str(), "");
}

TEST_F(StartCommandTest, TerminalRedrawsTheLiveViewInPlace) {
  ScriptRun(1, "finished");
  world_.env.out_is_tty = true;
  world_.env.term = "xterm";
  ASSERT_TRUE(RunStart(options_, &world_.env).ok());
  std::string out = world_.out.str();
  // The cursor hides while the view shows; the first frame (bar, status,
  // table header, one endpoint) draws below the created line, the next one
  // moves up over its 4 lines.
  EXPECT_NE(out.find("2 workers\n\x1b[?25l\r["), std::string::npos) << out;
  EXPECT_NE(out.find(" 33%  1.0s/3.0s"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[J\x1b[4A\r["), std::string::npos) << out;
  EXPECT_NE(out.find("100%  3.0s/3.0s"), std::string::npos) << out;
  EXPECT_NE(out.find("GET /delay/20ms"), std::string::npos) << out;
  // It shows again once, before the report, which stays below the view.
  EXPECT_NE(out.find("\x1b[J\x1b[?25h\nRun r1  demo  finished"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("\x1b[?25l", out.find("\x1b[?25l") + 1), std::string::npos) << out;
}

TEST_F(StartCommandTest, TerminalWithoutColourGetsPlainLines) {
  struct Case {
    const char* term;
    const char* no_color;
    bool flag;
  };
  const Case cases[] = {{"xterm", "1", false},
                        {"dumb", nullptr, false},
                        {nullptr, nullptr, false},
                        {"xterm", nullptr, true}};
  for (const Case& c : cases) {
    FakeWorld world;
    world.files.files["plan.json"] = kPlan;
    world.api.On("POST /v1/runs", 201, kCreated);
    world.api.On(kPollPath, 200, RunJson("running", 1, 1000));
    world.api.On(kPollPath, 200, RunJson("finished", 3, 3000));
    world.api.On(kFullPath, 200, RunJson("finished", 3, 3000));
    world.env.out_is_tty = true;
    world.env.term = c.term;
    world.env.no_color = c.no_color;
    Options options = options_;
    options.no_color = c.flag;
    ASSERT_TRUE(RunStart(options, &world.env).ok());
    std::string out = world.out.str();
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
    EXPECT_EQ(out.find('\r'), std::string::npos) << out;
    EXPECT_NE(out.find("\nrunning  1.0s/3.0s  users 200/200  rps 1000.0"),
              std::string::npos)
        << out;
  }
}

TEST_F(StartCommandTest, FailedRunIsARunError) {
  ScriptRun(1, "failed");
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, Outcome::kRunError);
}

TEST_F(StartCommandTest, InterruptStopsTheRunAndStillReports) {
  world_.api.On("POST /v1/runs", 201, kCreated);
  world_.api.On(kPollPath, 200, RunJson("running", 1, 1000));
  world_.api.On(kPollPath, 200, RunJson("stopping", 2, 2000));
  world_.api.On(kPollPath, 200, RunJson("stopped", 2, 2000));
  world_.api.On(kFullPath, 200, RunJson("stopped", 2, 2000));
  world_.api.On("POST /v1/runs/r1/stop", 200, R"({"id": "r1", "state": "stopping"})");
  world_.waiter.interrupt_at_sleep = 2;
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, Outcome::kRunError);
  EXPECT_EQ(Count("POST /v1/runs/r1/stop"), 1);  // once, however long the stop takes
  EXPECT_EQ(world_.api.requests[2], "POST /v1/runs/r1/stop");
  EXPECT_NE(world_.err.str().find("stopping run r1"), std::string::npos);
  EXPECT_NE(world_.out.str().find("Run r1  demo  stopped"), std::string::npos);
}

TEST_F(StartCommandTest, InterruptAfterTheRunEndedIsNotAnError) {
  ScriptRun(0, "finished");
  world_.api.On(
      "POST /v1/runs/r1/stop", 409,
      R"({"error": {"code": "failed_precondition", "message": "run already ended"}})");
  world_.waiter.interrupt_at_sleep = 1;
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, Outcome::kSuccess);
}

TEST_F(StartCommandTest, RejectedPlanPrintsThePath) {
  world_.api.On("POST /v1/runs", 400,
                R"({"error": {"code": "invalid_argument", "path": "$.users",
                    "message": "must be between 1 and 1000 on this fleet, got 200"}})");
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(FormatError(outcome.status()),
            "loadctl: invalid plan: $.users: must be between 1 and 1000 on this fleet, "
            "got 200");
  EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
}

TEST_F(StartCommandTest, InvalidPlanNeverReachesTheCoordinator) {
  world_.files.files["plan.json"] = R"({"users": 200})";
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
  EXPECT_EQ(world_.connector.connects, 0);
  EXPECT_TRUE(world_.api.requests.empty());
}

TEST_F(StartCommandTest, NoLiveWorkersIsUnavailable) {
  world_.api.On(
      "POST /v1/runs", 409,
      R"({"error": {"code": "failed_precondition", "message": "no live workers"}})");
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  EXPECT_EQ(FormatError(outcome.status()),
            "loadctl: POST http://fake:8089/v1/runs: no live workers");
  EXPECT_EQ(ExitCodeFor(outcome), kExitUnavailable);
}

TEST_F(StartCommandTest, DetachPrintsTheIdOrTheJson) {
  world_.api.On("POST /v1/runs", 201, kCreated);
  options_.detach = true;
  ASSERT_TRUE(RunStart(options_, &world_.env).ok());
  EXPECT_EQ(world_.out.str(), "r1\n");
  options_.json = true;
  world_.out.str("");
  ASSERT_TRUE(RunStart(options_, &world_.env).ok());
  EXPECT_EQ(world_.out.str(), std::string(kCreated) + "\n");
  EXPECT_EQ(Count(kPollPath), 0);
}

TEST_F(StartCommandTest, JsonKeepsStdoutForTheFinalRunAndOutWritesIt) {
  ScriptRun(1, "finished");
  options_.json = true;
  options_.out_file = "report.json";
  ASSERT_TRUE(RunStart(options_, &world_.env).ok());
  std::string final_json = RunJson("finished", 3, 3000);
  EXPECT_EQ(world_.out.str(), final_json + "\n");
  EXPECT_EQ(world_.files.files["report.json"], final_json);
  EXPECT_NE(world_.err.str().find("running  1.0s/3.0s"), std::string::npos);
}

TEST_F(StartCommandTest, PollingSurvivesABriefOutage) {
  world_.api.On("POST /v1/runs", 201, kCreated);
  world_.api.OnNoAnswer(kPollPath);
  world_.api.On(kPollPath, 200, RunJson("finished", 3, 3000));
  world_.api.On(kFullPath, 200, RunJson("finished", 3, 3000));
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_NE(world_.err.str().find("(retrying)"), std::string::npos);
}

TEST_F(StartCommandTest, PollingGivesUpWhenTheCoordinatorStaysAway) {
  world_.api.On("POST /v1/runs", 201, kCreated);
  world_.api.OnNoAnswer(kPollPath);
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  EXPECT_EQ(ExitCodeFor(outcome), kExitUnavailable);
  EXPECT_EQ(Count(kPollPath), kMaxPollFailures + 1);
}

constexpr char kExpectFailure[] =
    "only 2 of 3 expected workers registered within 5s; start more workers or lower "
    "expect_workers";

std::string WaitingRunJson(const char* state, const char* message) {
  return std::string(R"({"id": "r1", "name": "demo", "state": ")") + state +
         R"(", "message": ")" + message + R"(", "elapsed_s": 0, "duration_s": 3,
         "plan": {"users": 200, "expect_workers": 3, "expect_timeout": "5s"},
         "users": 0, "target_users": 200, "workers": [],
         "totals": {"requests": 0, "failures": 0, "rps": 0, "errors": {}},
         "endpoints": [], "aggregated": {}})";
}

TEST_F(StartCommandTest, WaitingRunShowsTheWorkersThenFailsWithItsMessage) {
  world_.files.files["plan.json"] = R"({"name": "demo", "users": 200, "duration": "3s",
      "expect_workers": 3, "expect_timeout": "5s",
      "requests": [{"url": "http://127.0.0.1:9000/"}]})";
  world_.api.On("POST /v1/runs", 201,
                R"({"id": "r1", "state": "waiting", "workers": 0, "users": 200})");
  world_.api.On("GET /healthz", 200, R"({"status": "ok", "workers": 1})");
  world_.api.On("GET /healthz", 200, R"({"status": "ok", "workers": 2})");
  world_.api.On(kPollPath, 200, WaitingRunJson("waiting", ""));
  world_.api.On(kPollPath, 200, WaitingRunJson("waiting", ""));
  world_.api.On(kPollPath, 200, WaitingRunJson("failed", kExpectFailure));
  world_.api.On(kFullPath, 200, WaitingRunJson("failed", kExpectFailure));
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(ExitCodeFor(outcome), kExitRunError);
  EXPECT_EQ(Count("GET /healthz"), 2);  // only while the run waits
  std::string out = world_.out.str();
  EXPECT_EQ(out.substr(0, out.find("\n\n")),
            "Run r1 created: 200 users; waiting for 3 workers\n"
            "waiting for workers (have 1, want 3)\n"
            "waiting for workers (have 2, want 3)\n"
            "failed  0.0s/3.0s  users 0/200  rps 0.0  p95 0us  failures 0  workers 0");
  EXPECT_NE(out.find(std::string("\nMessage: ") + kExpectFailure + "\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(world_.err.str(),
            std::string("loadctl: run r1 failed: ") + kExpectFailure + "\n");
}

TEST_F(StartCommandTest, WaitingLineSurvivesAHealthzWithoutAnswer) {
  world_.api.On("POST /v1/runs", 201,
                R"({"id": "r1", "state": "waiting", "workers": 0, "users": 200})");
  world_.api.OnNoAnswer("GET /healthz");
  world_.api.On(kPollPath, 200, WaitingRunJson("waiting", ""));
  world_.api.On(kPollPath, 200, RunJson("finished", 3, 3000));
  world_.api.On(kFullPath, 200, RunJson("finished", 3, 3000));
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, Outcome::kSuccess);
  EXPECT_NE(world_.out.str().find("\nwaiting for workers (have ?, want 3)\n"),
            std::string::npos)
      << world_.out.str();
}

// A run with its warnings array, as the coordinator grows it.
std::string RunWithWarnings(const char* state, std::vector<const char*> messages) {
  std::string run = RunJson(state, 1, 1000);
  std::string warnings = R"(, "warnings": [)";
  for (size_t i = 0; i < messages.size(); ++i) {
    warnings += std::string(i == 0 ? "" : ", ") + R"({"kind": "cpu", "message": ")" +
                messages[i] + "\"}";
  }
  return run.substr(0, run.size() - 1) + warnings + "]}";
}

TEST_F(StartCommandTest, NewWarningsPrintOnceAsLinesOfTheirOwn) {
  world_.api.On("POST /v1/runs", 201, kCreated);
  world_.api.On(kPollPath, 200, RunWithWarnings("running", {}));
  world_.api.On(kPollPath, 200, RunWithWarnings("running", {"cpu h/0"}));
  world_.api.On(kPollPath, 200, RunWithWarnings("running", {"cpu h/0 longer"}));
  world_.api.On(kPollPath, 200,
                RunWithWarnings("finished", {"cpu h/0 longer", "cpu h/1"}));
  world_.api.On(kFullPath, 200,
                RunWithWarnings("finished", {"cpu h/0 longer", "cpu h/1"}));
  world_.env.out_is_tty = true;
  world_.env.term = "xterm";
  ASSERT_TRUE(RunStart(options_, &world_.env).ok());
  std::string out = world_.out.str();
  // A warning takes the live view's place and stays; the view draws again
  // below it.
  EXPECT_NE(out.find("\x1b[4A\rWarning: cpu h/0\x1b[K\n\x1b[J\r["), std::string::npos)
      << out;
  EXPECT_NE(out.find("\x1b[4A\rWarning: cpu h/1\x1b[K\n\x1b[J\r["), std::string::npos)
      << out;
  EXPECT_EQ(out.find("Warning: cpu h/0 longer"), std::string::npos) << out;
  EXPECT_NE(out.find("\nWarnings:\n  cpu h/0 longer\n  cpu h/1\n"), std::string::npos)
      << out;
}

TEST_F(StartCommandTest, QuickOpenModelPlanStartsWithAnArrivalRate) {
  options_.plan = PlanFlags();
  options_.plan.arrival_rate = "500";
  options_.plan.duration = "20s";
  options_.plan.target = "http://127.0.0.1:9000/";
  world_.api.On("POST /v1/runs", 201,
                R"({"id": "r1", "state": "starting", "workers": 2, "arrival_rate": 500,
                    "users": 0})");
  world_.api.On(kPollPath, 200, RunJson("finished", 3, 3000));
  world_.api.On(kFullPath, 200, RunJson("finished", 3, 3000));
  ASSERT_TRUE(RunStart(options_, &world_.env).ok());
  EXPECT_EQ(
      world_.api.bodies[0],
      R"({"arrival_rate":500.0,"duration":"20s","target":"http://127.0.0.1:9000/"})");
  std::string out = world_.out.str();
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "Run r1 started: arrival rate 500/s on 2 workers");
}

TEST_F(StartCommandTest, DetachExcludesTheResultFiles) {
  options_.detach = true;
  options_.out_file = "report.json";
  EXPECT_EQ(FormatError(RunStart(options_, &world_.env).status()),
            "loadctl: --out: cannot be combined with --detach");
  options_.out_file = "";
  options_.junit_file = "junit.xml";
  EXPECT_EQ(FormatError(RunStart(options_, &world_.env).status()),
            "loadctl: --junit: cannot be combined with --detach");
  EXPECT_EQ(world_.connector.connects, 0);
}

TEST_F(StartCommandTest, LocalExcludesDetachAndCoordinator) {
  options_.local = true;
  options_.detach = true;
  EXPECT_EQ(RunStart(options_, &world_.env).status().path(), "--detach");
  options_.detach = false;
  options_.coordinator = "http://x:1";
  EXPECT_EQ(RunStart(options_, &world_.env).status().path(), "--local");
  EXPECT_EQ(world_.connector.connects, 0);
}

// The final run with the coordinator's verdict fields appended.
std::string RunWithVerdict(const char* state, const char* end_reason, const char* message,
                           const char* verdict) {
  std::string run = RunJson(state, 3, 3000);
  return run.substr(0, run.size() - 1) + R"(, "end_reason": ")" + end_reason +
         R"(", "message": ")" + message + R"(", )" + verdict + "}";
}

constexpr char kThresholdsPassed[] = R"("thresholds_passed": true, "thresholds": [
    {"key": "http.p95", "condition": "<250ms", "actual": 20815, "passed": true,
     "message": "actual 20.8ms meets <250ms"}], "checks": [])";
constexpr char kThresholdsFailed[] = R"("thresholds_passed": false, "thresholds": [
    {"key": "http.p95", "condition": "<10ms", "actual": 20815, "passed": false,
     "message": "actual 20.8ms misses <10ms"}], "checks": [])";
constexpr char kAbortMessage[] =
    "threshold http.p95 <10ms failed (actual 20.8ms); run aborted";

TEST_F(StartCommandTest, CiOneLinerExitsWithTheVerdictAndWritesBothFiles) {
  struct Case {
    const char* label;
    const char* state;
    const char* end_reason;
    const char* message;
    const char* verdict;
    int exit_code;
    const char* junit_counts;  // in the JUnit file
    const char* err;           // stderr
  };
  const Case kCases[] = {
      {"passed", "finished", "completed", "", kThresholdsPassed, kExitOk,
       "tests=\"1\" failures=\"0\"", ""},
      {"no thresholds at all", "finished", "completed", "", R"("checks": [])", kExitOk,
       "tests=\"1\" failures=\"0\"", ""},
      {"thresholds failed", "finished", "completed", "", kThresholdsFailed,
       kExitThresholdsFailed, "tests=\"1\" failures=\"1\"",
       "loadctl: run r1 failed thresholds: http.p95 <10ms (actual 20.8ms)\n"},
      {"aborted by a threshold", "stopped", "aborted_by_threshold", kAbortMessage,
       kThresholdsFailed, kExitThresholdsFailed, "tests=\"2\" failures=\"2\"",
       "loadctl: run r1 failed thresholds: http.p95 <10ms (actual 20.8ms)\n"},
      {"failed run: a run error even with thresholds passed", "failed",
       "all_workers_lost", "all workers lost", kThresholdsPassed, kExitRunError,
       "tests=\"2\" failures=\"1\"", "loadctl: run r1 failed: all workers lost\n"},
  };
  for (const Case& c : kCases) {
    FakeWorld world;
    world.files.files["plan.json"] = kPlan;
    std::string final_run = RunWithVerdict(c.state, c.end_reason, c.message, c.verdict);
    world.api.On("POST /v1/runs", 201, kCreated);
    world.api.On(kPollPath, 200, final_run);
    world.api.On(kFullPath, 200, final_run);
    options_.out_file = "report.json";
    options_.junit_file = "junit.xml";
    Result<Outcome> outcome = RunStart(options_, &world.env);
    EXPECT_EQ(ExitCodeFor(outcome), c.exit_code) << c.label;
    EXPECT_EQ(world.files.files["report.json"], final_run) << c.label;
    EXPECT_EQ(world.files.modes["report.json"], 0600u) << c.label;
    EXPECT_EQ(world.files.modes["junit.xml"], 0600u) << c.label;
    const std::string& junit = world.files.files["junit.xml"];
    EXPECT_NE(junit.find("<testsuite name=\"loadd r1\" " + std::string(c.junit_counts)),
              std::string::npos)
        << c.label << "\n"
        << junit;
    EXPECT_EQ(world.err.str(), c.err) << c.label;
  }
}

TEST_F(StartCommandTest, ModeSetsTheResultFilesModeAndABadOneSendsNothing) {
  std::string final_run = RunWithVerdict("finished", "completed", "", kThresholdsPassed);
  world_.api.On("POST /v1/runs", 201, kCreated);
  world_.api.On(kPollPath, 200, final_run);
  world_.api.On(kFullPath, 200, final_run);
  options_.out_file = "report.json";
  options_.junit_file = "junit.xml";
  options_.file_mode = "0644";
  EXPECT_EQ(ExitCodeFor(RunStart(options_, &world_.env)), kExitOk);
  EXPECT_EQ(world_.files.modes["report.json"], 0644u);
  EXPECT_EQ(world_.files.modes["junit.xml"], 0644u);
  world_.api.requests.clear();
  options_.file_mode = "8";
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().path(), "--mode");
  EXPECT_TRUE(world_.api.requests.empty());
}

TEST_F(StartCommandTest, TheReportEndsWithTheThresholds) {
  std::string final_run = RunWithVerdict("finished", "completed", "", kThresholdsFailed);
  world_.api.On("POST /v1/runs", 201, kCreated);
  world_.api.On(kPollPath, 200, final_run);
  world_.api.On(kFullPath, 200, final_run);
  EXPECT_EQ(ExitCodeFor(RunStart(options_, &world_.env)), kExitThresholdsFailed);
  std::string out = world_.out.str();
  EXPECT_NE(out.find("\nThresholds: 1 of 1 failed\n"
                     "Result  Threshold  Condition  Actual\n"
                     "FAIL    http.p95   <10ms      20.8ms\n"),
            std::string::npos)
      << out;
}

TEST_F(StartCommandTest, AnUnwritableResultFileIsInvalidInputButTheOtherIsWritten) {
  ScriptRun(0, "finished");
  options_.out_file = "ro/report.json";
  options_.junit_file = "junit.xml";
  world_.files.unwritable.insert("ro/report.json");
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
  EXPECT_EQ(FormatError(outcome.status()),
            "loadctl: ro/report.json: cannot write: Permission denied");
  EXPECT_EQ(world_.files.files.count("junit.xml"), 1u);
  EXPECT_NE(world_.out.str().find("Run r1  demo  finished"), std::string::npos);
}

TEST_F(StartCommandTest, EnvFlagsArePosted) {
  ScriptRun(0, "finished");
  options_.plan.env = {"TOKEN=abc", "TOKEN=def=1"};
  ASSERT_TRUE(RunStart(options_, &world_.env).ok());
  EXPECT_NE(world_.api.bodies[0].find(R"("env":{"TOKEN":"def=1"})"), std::string::npos)
      << world_.api.bodies[0];
}

TEST_F(StartCommandTest, ABadEnvFlagIsInvalidInputAndSendsNothing) {
  options_.plan.env = {"TOKEN"};
  Result<Outcome> outcome = RunStart(options_, &world_.env);
  EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
  EXPECT_EQ(FormatError(outcome.status()),
            "loadctl: invalid plan: --env: \"TOKEN\" is not KEY=VALUE");
  EXPECT_TRUE(world_.api.requests.empty());
}

}  // namespace
}  // namespace loadd
