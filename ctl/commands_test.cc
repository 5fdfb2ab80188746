#include "ctl/commands.h"

#include <gtest/gtest.h>

#include <string_view>

#include "ctl/test_fakes.h"

namespace loadd {
namespace {

constexpr char kRuns[] = R"({"runs": [
  {"id": "r3", "name": "new", "state": "finished", "created_at": "t3",
   "users": 5, "duration_s": 5,
   "requests": 10, "failures": 0},
  {"id": "r2", "name": "soak", "state": "running", "created_at": "t2",
   "users": 9, "duration_s": 60,
   "requests": 99, "failures": 1},
  {"id": "r1", "name": "old", "state": "stopped", "created_at": "t1",
   "users": 1, "duration_s": 1,
   "requests": 1, "failures": 0}]})";

const Command& Find(std::string_view name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return c;
  }
  ADD_FAILURE() << "no command " << name;
  return Commands()[0];
}

std::string RunJson(const std::string& body) {
  return R"({"id": ")" + body + R"(", "state": "finished", "users": 5, "workers": [],
             "totals": {"requests": 10, "failures": 0, "rps": 2}})";
}

class CommandsTest : public ::testing::Test {
 protected:
  Result<Outcome> Call(std::string_view name) {
    return Find(name).run(options_, &world_.env);
  }
  FakeWorld world_;
  Options options_;
};

TEST_F(CommandsTest, TableHasEveryCommandOnce) {
  std::vector<std::string> names;
  for (const Command& c : Commands()) names.push_back(c.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"start", "status", "stop", "scale", "workers",
                                      "runs", "report", "validate", "compare"}));
  EXPECT_TRUE(Find("start").catches_interrupts);
  EXPECT_FALSE(Find("runs").catches_interrupts);
}

TEST_F(CommandsTest, StatusDefaultsToTheNewestRun) {
  world_.api.On("GET /v1/runs", 200, kRuns);
  world_.api.On("GET /v1/runs/r3?timeline=0", 200, RunJson("r3"));
  ASSERT_TRUE(Call("status").ok());
  EXPECT_EQ(world_.out.str().substr(0, 40), "Run r3  finished  0.0s  5 users  0 worke");
}

TEST_F(CommandsTest, StatusWithoutRunsIsNotFound) {
  world_.api.On("GET /v1/runs", 200, R"({"runs": []})");
  Result<Outcome> outcome = Call("status");
  EXPECT_EQ(FormatError(outcome.status()), "loadctl: no runs yet");
  EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
}

TEST_F(CommandsTest, StopDefaultsToTheActiveRun) {
  world_.api.On("GET /v1/runs", 200, kRuns);
  world_.api.On("POST /v1/runs/r2/stop", 200, R"({"id": "r2", "state": "stopping"})");
  ASSERT_TRUE(Call("stop").ok());
  EXPECT_EQ(world_.out.str(), "Stopping run r2\n");
}

TEST_F(CommandsTest, StopWithNothingActiveFails) {
  world_.api.On("GET /v1/runs", 200, R"({"runs": [{"id": "r1", "state": "finished"}]})");
  Result<Outcome> outcome = Call("stop");
  EXPECT_EQ(FormatError(outcome.status()), "loadctl: no active run to stop");
  EXPECT_EQ(ExitCodeFor(outcome), kExitUnavailable);
}

TEST_F(CommandsTest, StopOfAnEndedRunReportsTheConflict) {
  options_.run_id = "r1";
  world_.api.On(
      "POST /v1/runs/r1/stop", 409,
      R"({"error": {"code": "failed_precondition", "message": "run already ended"}})");
  EXPECT_EQ(FormatError(Call("stop").status()),
            "loadctl: POST http://fake:8089/v1/runs/r1/stop: run already ended");
}

TEST_F(CommandsTest, ScaleDefaultsToTheActiveRunAndPrintsTheChange) {
  world_.api.On("GET /v1/runs", 200, kRuns);
  world_.api.On(
      "PATCH /v1/runs/r2", 200,
      R"({"id": "r2", "event": {"kind": "scale", "by": "ci", "requested_ms": 4000,
                    "at_ms": 4300, "unit": "users", "from": 100, "to": 300,
                    "ramp_rate": 100}})");
  options_.scale_users = "300";
  ASSERT_TRUE(Call("scale").ok());
  EXPECT_EQ(world_.api.bodies.back(), R"({"users":300})");
  EXPECT_EQ(world_.out.str(),
            "Scaling run r2: users 100 -> 300 at 100/s from 4.3s (by ci)\n");
}

TEST_F(CommandsTest, ScaleFlagsAreCheckedBeforeAnyRequest) {
  struct Case {
    const char* users;
    const char* rate;
    const char* error;
  };
  const Case cases[] = {
      {"", "", "loadctl: --users: give --users N"},
      {"5", "5", "loadctl: --users: give --users N"},
      {"-5", "", "loadctl: --users: must be a number of users"},
      {"", "fast", "loadctl: --rate: must be arrivals per second"},
  };
  for (const Case& c : cases) {
    options_.scale_users = c.users;
    options_.scale_rate = c.rate;
    Result<Outcome> outcome = Call("scale");
    EXPECT_EQ(FormatError(outcome.status()).rfind(c.error, 0), 0u)
        << FormatError(outcome.status());
    EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
  }
  EXPECT_TRUE(world_.api.requests.empty());
  // The rate form, and the coordinator's refusal as its error.
  options_.scale_users = "";
  options_.scale_rate = "600";
  options_.run_id = "r2";
  world_.api.On("PATCH /v1/runs/r2", 400,
                R"({"error": {"code": "invalid_argument", "path": "$.rate",
                    "message": "run r2 is closed-model (users): scale it with {\"users\": N}"}})");
  Result<Outcome> outcome = Call("scale");
  EXPECT_EQ(world_.api.bodies.back(), R"({"rate":600})");
  EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
}

TEST_F(CommandsTest, RunsAndWorkersPrintTablesOrJson) {
  world_.api.On("GET /v1/runs", 200, kRuns);
  world_.api.On(
      "GET /v1/workers", 200,
      R"({"workers": [{"id": "h/0", "host": "h", "cpu": 0, "state": "idle"}]})");
  ASSERT_TRUE(Call("runs").ok());
  EXPECT_EQ(world_.out.str().substr(0, 3), "ID ");
  EXPECT_NE(world_.out.str().find("\nr2  soak  running"), std::string::npos);
  world_.out.str("");
  options_.json = true;
  ASSERT_TRUE(Call("workers").ok());
  EXPECT_EQ(world_.out.str(),
            R"({"workers": [{"id": "h/0", "host": "h", "cpu": 0, "state": "idle"}]})"
            "\n");
}

TEST_F(CommandsTest, RunsFilterByLabelAndStateAndShowNameAndLabels) {
  world_.api.On("GET /v1/runs?label=branch%3Dmain&label=commit%3Dabc&state=finished", 200,
                R"({"runs": [{"id": "r7", "name": "nightly", "state": "finished",
                    "labels": {"branch": "main", "commit": "abc"}}]})");
  options_.run_labels = {"commit=abc", "branch=main"};
  options_.run_states = {"finished"};
  ASSERT_TRUE(Call("runs").ok());
  EXPECT_NE(world_.out.str().find("LABELS"), std::string::npos) << world_.out.str();
  EXPECT_NE(world_.out.str().find("\nr7  nightly  finished"), std::string::npos)
      << world_.out.str();
  EXPECT_NE(world_.out.str().find("branch=main,commit=abc"), std::string::npos)
      << world_.out.str();
}

TEST_F(CommandsTest, AMalformedRunsFilterIsRefusedBeforeAnyRequest) {
  options_.run_labels = {"branch"};
  Status st = Call("runs").status();
  EXPECT_EQ(st.ToString(), "--label \"branch\": must be key=value");
  options_.run_labels = {};
  options_.run_states = {"Finished"};
  EXPECT_NE(
      Call("runs").status().ToString().find("--state: \"Finished\" is not a run state"),
      std::string::npos);
  EXPECT_TRUE(world_.api.requests.empty());
}

TEST_F(CommandsTest, WorkersShowTheirLabelsAndDropMalformedOnes) {
  world_.api.On("GET /v1/workers", 200,
                R"({"workers": [{"id": "h/0", "host": "h", "cpu": 0, "state": "idle",
                    "labels": {"pool": "eu", "evil": "\u001b[2J", "n": 5}},
                    {"id": "h/1", "host": "h", "cpu": 1, "state": "idle"}]})");
  ASSERT_TRUE(Call("workers").ok());
  std::string out = world_.out.str();
  EXPECT_NE(out.find("LABELS"), std::string::npos) << out;
  EXPECT_NE(out.find("pool=eu\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("evil"), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
}

TEST_F(CommandsTest, EmptyListsSaySo) {
  world_.api.On("GET /v1/runs", 200, R"({"runs": []})");
  world_.api.On("GET /v1/workers", 200, R"({"workers": []})");
  ASSERT_TRUE(Call("runs").ok());
  ASSERT_TRUE(Call("workers").ok());
  EXPECT_EQ(world_.out.str(), "No runs.\nNo workers.\n");
}

TEST_F(CommandsTest, ReportOfAnUnknownRunIsInvalidInput) {
  options_.run_id = "r404";
  world_.api.On("GET /v1/runs/r404", 404,
                R"({"error": {"code": "not_found", "message": "no run r404"}})");
  Result<Outcome> outcome = Call("report");
  EXPECT_EQ(FormatError(outcome.status()),
            "loadctl: GET http://fake:8089/v1/runs/r404: no run r404");
  EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
}

TEST_F(CommandsTest, ReportRefusesAnIdThatWouldChangeTheUrl) {
  options_.run_id = "r1/stop";
  EXPECT_EQ(ExitCodeFor(Call("report")), kExitInvalidInput);
  EXPECT_TRUE(world_.api.requests.empty());
}

TEST_F(CommandsTest, ValidateIsOffline) {
  options_.plan.plan_file = "p.json";
  world_.files.files["p.json"] = R"({"users": 3, "target": "http://127.0.0.1:9000"})";
  ASSERT_TRUE(Call("validate").ok());
  EXPECT_EQ(world_.out.str(), "ok\n");
  world_.files.files["p.json"] =
      R"({"users": 3, "target": "http://127.0.0.1:9000", "durashun": 1})";
  Result<Outcome> outcome = Call("validate");
  EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
  EXPECT_EQ(FormatError(outcome.status()).substr(0, 35),
            "loadctl: invalid plan: $.durashun: ");
  EXPECT_EQ(world_.connector.connects, 0);
}

TEST_F(CommandsTest, ValidateJsonPrintsTheNormalizedPlan) {
  options_.plan.plan_file = "p.json";
  options_.json = true;
  world_.files.files["p.json"] = R"({"users": "1k", "target": "http://127.0.0.1:9000"})";
  ASSERT_TRUE(Call("validate").ok());
  EXPECT_NE(world_.out.str().find(R"("users":1000)"), std::string::npos)
      << world_.out.str();
}

TEST_F(CommandsTest, UnreachableCoordinatorIsExitFour) {
  world_.api.OnNoAnswer("GET /v1/runs");
  Result<Outcome> outcome = Call("runs");
  EXPECT_EQ(ExitCodeFor(outcome), kExitUnavailable);
  EXPECT_EQ(FormatError(outcome.status()),
            "loadctl: cannot reach the coordinator: GET /v1/runs");
}

}  // namespace
}  // namespace loadd
