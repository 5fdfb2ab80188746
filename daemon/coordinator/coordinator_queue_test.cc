// The run queue and concurrent runs on parts of the fleet
// (coordinator_queue.cc), on a fake clock and a fake bus.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <string>
#include <vector>

#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/rest_api.h"

namespace loadd {
namespace {

void FailTheTest(RunState from, RunState to) {
  ADD_FAILURE() << "illegal transition " << RunStateName(from) << " -> "
                << RunStateName(to);
}

class FakeBus : public FleetBus {
 public:
  void SendTo(uint32_t pipe, const std::string& bytes) override {
    Result<Message> m = DecodeMessage(bytes);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    sent.push_back({pipe, std::move(*m)});
  }
  template <typename T>
  std::vector<std::pair<uint32_t, T>> Of() const {
    std::vector<std::pair<uint32_t, T>> out;
    for (const auto& [pipe, m] : sent) {
      if (auto* t = std::get_if<T>(&m)) out.push_back({pipe, *t});
    }
    return out;
  }
  // Pipes that got an assign for run_id.
  std::set<uint32_t> AssignedTo(const std::string& run_id) const {
    std::set<uint32_t> pipes;
    for (const auto& [pipe, a] : Of<AssignMsg>()) {
      if (a.run_id == run_id) pipes.insert(pipe);
    }
    return pipes;
  }
  std::vector<std::pair<uint32_t, Message>> sent;
};

std::string PlanFor(const std::string& extra) {
  return R"({"target": "http://127.0.0.1:9/x", "users": 8, "duration": "10s")" +
         (extra.empty() ? "" : ", " + extra) + "}";
}

class CoordinatorQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { SetIllegalTransitionHandler(&FailTheTest); }
  void TearDown() override { SetIllegalTransitionHandler(nullptr); }

  void Register(Coordinator* c, uint32_t pipe, const std::string& host, int64_t instance,
                Labels labels = {}) {
    c->OnConnect(pipe);
    HelloMsg hello{host, instance, instance, 2, 100, "t", ""};
    hello.labels = std::move(labels);
    c->OnMessage(pipe, EncodeMessage(hello));
  }
  void Register(uint32_t pipe, const std::string& host, int64_t instance,
                Labels labels = {}) {
    Register(&coordinator_, pipe, host, instance, std::move(labels));
  }
  void Final(uint32_t pipe, const std::string& run_id) {
    StatsMsg stats;
    stats.run_id = run_id;
    stats.final = true;
    coordinator_.OnMessage(pipe, EncodeMessage(stats));
  }
  static rapidjson::Document Json(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    EXPECT_FALSE(doc.HasParseError()) << text;
    return doc;
  }
  std::string Create(Coordinator* c, const std::string& plan) {
    Result<std::string> r = c->CreateRun(plan);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Json(*r)["id"].GetString() : "";
  }
  std::string Create(const std::string& plan) { return Create(&coordinator_, plan); }
  std::string StateOf(Coordinator* c, const std::string& id) {
    return Json(*c->GetRun(id, false))["state"].GetString();
  }
  std::string StateOf(const std::string& id) { return StateOf(&coordinator_, id); }
  int64_t PositionOf(Coordinator* c, const std::string& id) {
    rapidjson::Document run = Json(*c->GetRun(id, false));
    return run.HasMember("queue_position") ? run["queue_position"].GetInt64() : 0;
  }
  int64_t PositionOf(const std::string& id) { return PositionOf(&coordinator_, id); }
  std::set<std::string> WorkersOf(const std::string& id) {
    std::set<std::string> ids;
    rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
    for (const auto& w : run["workers"].GetArray()) ids.insert(w["id"].GetString());
    return ids;
  }
  // Every worker of the run sends its final stats: it ends, its workers are free.
  void EndRun(const std::string& id) {
    for (uint32_t pipe : bus_.AssignedTo(id)) Final(pipe, id);
    coordinator_.Tick();
  }

  FakeBus bus_;
  FakeClock clock_{1'000'000'000'000};
  Coordinator coordinator_{&bus_, &clock_};
};

TEST_F(CoordinatorQueueTest, RunsOnDisjointPoolsGoTogetherAndAWholeFleetRunQueues) {
  Register(1, "h1", 0, {{"pool", "a"}});
  Register(2, "h2", 0, {{"pool", "a"}});
  Register(3, "h3", 0, {{"pool", "b"}});
  Register(4, "h4", 0, {{"pool", "b"}});
  std::string a = Create(PlanFor(R"("workers": {"labels": {"pool": "a"}})"));
  std::string b = Create(PlanFor(R"("workers": {"labels": {"pool": "b"}})"));
  Result<std::string> whole = coordinator_.CreateRun(PlanFor(""));
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  rapidjson::Document reply = Json(*whole);
  EXPECT_STREQ(reply["state"].GetString(), "queued");
  EXPECT_EQ(reply["queue_position"].GetInt64(), 1);
  std::string all = reply["id"].GetString();

  EXPECT_EQ(StateOf(a), "starting");
  EXPECT_EQ(StateOf(b), "starting");
  EXPECT_EQ(bus_.AssignedTo(a), (std::set<uint32_t>{1, 2}));
  EXPECT_EQ(bus_.AssignedTo(b), (std::set<uint32_t>{3, 4}));
  EXPECT_EQ(WorkersOf(a), (std::set<std::string>{"h1/0", "h2/0"}));
  EXPECT_EQ(WorkersOf(b), (std::set<std::string>{"h3/0", "h4/0"}));
  EXPECT_EQ(PositionOf(all), 1);
  EXPECT_NE(coordinator_.ListRuns().find(R"("queue_position":1)"), std::string::npos);

  clock_.AdvanceNs(2 * kNsPerSec);
  coordinator_.Tick();
  EndRun(a);
  EXPECT_EQ(StateOf(all), "queued");  // pool b is still busy
  EXPECT_TRUE(bus_.AssignedTo(all).empty());
  EndRun(b);
  EXPECT_EQ(StateOf(all), "starting");
  EXPECT_EQ(PositionOf(all), 0);
  EXPECT_EQ(bus_.AssignedTo(all), (std::set<uint32_t>{1, 2, 3, 4}));
}

TEST_F(CoordinatorQueueTest, QueuedRunsStartByPriorityThenFirstCome) {
  Register(1, "h1", 0);
  std::string running = Create(PlanFor(""));
  std::string low = Create(PlanFor(""));
  std::string high = Create(PlanFor(R"("priority": 10)"));
  std::string low2 = Create(PlanFor(""));
  EXPECT_EQ(PositionOf(high), 1);
  EXPECT_EQ(PositionOf(low), 2);
  EXPECT_EQ(PositionOf(low2), 3);
  EndRun(running);
  EXPECT_EQ(StateOf(high), "starting");
  EXPECT_EQ(PositionOf(low), 1);
  EndRun(high);
  EXPECT_EQ(StateOf(low), "starting");
  EXPECT_EQ(StateOf(low2), "queued");
}

TEST_F(CoordinatorQueueTest, NoQueueIsRefusedAtOnceAndChangesNothing) {
  Register(1, "h1", 0);
  std::string running = Create(PlanFor(""));
  std::string before = coordinator_.ListRuns();
  Result<std::string> r = coordinator_.CreateRun(PlanFor(R"("queue": false)"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(HttpCodeOf(r.status()), 409);
  EXPECT_EQ(r.status().path(), "$.queue");
  EXPECT_NE(r.status().message().find("busy"), std::string::npos) << r.status().message();
  EXPECT_EQ(coordinator_.ListRuns(), before);
  // With free workers it starts as any run.
  EndRun(running);
  EXPECT_EQ(StateOf(Create(PlanFor(R"("queue": false)"))), "starting");
}

TEST_F(CoordinatorQueueTest, AFullQueueIsRefusedNamingTheFlag) {
  CoordinatorConfig config;
  config.max_queued = 2;
  Coordinator c(&bus_, &clock_, config);
  Register(&c, 1, "h1", 0);
  Create(&c, PlanFor(""));
  std::string q1 = Create(&c, PlanFor(""));
  Create(&c, PlanFor(""));
  std::string before = c.ListRuns();
  Result<std::string> r = c.CreateRun(PlanFor(R"("priority": 5)"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(HttpCodeOf(r.status()), 429);
  EXPECT_EQ(r.status().path(), "--max-queued");
  EXPECT_NE(r.status().message().find("--max-queued 2"), std::string::npos);
  EXPECT_EQ(c.ListRuns(), before);
  EXPECT_EQ(PositionOf(&c, q1), 1);
  // The queue counts against a token's max_runs cap too.
  EXPECT_EQ(c.ActiveRunsStartedBy(""), 3);
}

TEST_F(CoordinatorQueueTest, StopCancelsAQueuedRun) {
  Register(1, "h1", 0);
  Create(PlanFor(""));
  std::string first = Create(PlanFor(""));
  std::string second = Create(PlanFor(""));
  Result<std::string> stopped = coordinator_.StopRun(first);
  ASSERT_TRUE(stopped.ok());
  EXPECT_STREQ(Json(*stopped)["state"].GetString(), "stopped");
  rapidjson::Document run = Json(*coordinator_.GetRun(first, false));
  EXPECT_STREQ(run["end_reason"].GetString(), "stopped");
  EXPECT_STREQ(run["message"].GetString(), "cancelled while queued");
  EXPECT_EQ(PositionOf(second), 1);
  EXPECT_TRUE(bus_.Of<StopMsg>().empty());  // no worker had it
}

TEST_F(CoordinatorQueueTest, ALostWorkersShareStaysInItsRun) {
  // 2 hosts x 2 cores; count 2 takes one worker per host.
  Register(1, "h1", 0);
  Register(2, "h1", 1);
  Register(3, "h2", 0);
  Register(4, "h2", 1);
  std::string r = Create(PlanFor(R"("workers": {"count": 2})"));
  EXPECT_EQ(bus_.AssignedTo(r), (std::set<uint32_t>{1, 3}));
  std::string other = Create(PlanFor(R"("workers": {"count": 1})"));
  EXPECT_EQ(bus_.AssignedTo(other).size(), 1u);
  clock_.AdvanceNs(2 * kNsPerSec);
  coordinator_.Tick();
  bus_.sent.clear();
  coordinator_.OnDisconnect(3);
  std::set<uint32_t> got;
  for (const auto& [pipe, m] : bus_.Of<ReshareMsg>()) {
    EXPECT_EQ(m.run_id, r);
    got.insert(pipe);
  }
  EXPECT_EQ(got, (std::set<uint32_t>{1}));
  EXPECT_TRUE(bus_.Of<AssignMsg>().empty());  // no idle worker pulled in
}

TEST_F(CoordinatorQueueTest, AWorkerThatRegistersJoinsARunShortOfItsCount) {
  Register(1, "h1", 0, {{"pool", "a"}});
  std::string r = Create(PlanFor(R"("workers": {"count": 2, "labels": {"pool": "a"}})"));
  EXPECT_EQ(StateOf(r), "starting");
  EXPECT_EQ(bus_.AssignedTo(r), (std::set<uint32_t>{1}));
  std::string queued = Create(PlanFor(""));
  clock_.AdvanceNs(2 * kNsPerSec);
  coordinator_.Tick();
  Register(2, "h2", 0, {{"pool", "b"}});  // no match: for the queue
  Register(3, "h3", 0, {{"pool", "a"}});  // joins the short run
  EXPECT_EQ(bus_.AssignedTo(r), (std::set<uint32_t>{1, 3}));
  EXPECT_TRUE(bus_.AssignedTo(queued).empty());
  Register(4, "h4", 0, {{"pool", "a"}});  // the run has its 2
  EXPECT_EQ(bus_.AssignedTo(r), (std::set<uint32_t>{1, 3}));
}

TEST_F(CoordinatorQueueTest, AHeartbeatSentBeforeTheAssignKeepsTheWorkerBusy) {
  Register(1, "h1", 0);
  std::string r = Create(PlanFor(""));
  HeartbeatMsg hb;  // run_id "": sent before the assign arrived
  coordinator_.OnMessage(1, EncodeMessage(hb));
  std::string queued = Create(PlanFor(""));
  EXPECT_EQ(StateOf(queued), "queued");
  EXPECT_TRUE(bus_.AssignedTo(queued).empty());
}

TEST_F(CoordinatorQueueTest, ExpectWorkersWaitsAtTheHeadThenFails) {
  Register(1, "h1", 0);
  std::string r = Create(PlanFor(R"("expect_workers": 2, "expect_timeout": "5s")"));
  EXPECT_EQ(StateOf(r), "waiting");
  EXPECT_EQ(PositionOf(r), 1);
  std::string behind = Create(PlanFor(""));
  EXPECT_EQ(StateOf(behind), "queued");
  EXPECT_EQ(PositionOf(behind), 2);
  for (int i = 0; i < 6; ++i) {  // the worker stays live
    clock_.AdvanceNs(kNsPerSec);
    coordinator_.OnMessage(1, EncodeMessage(HeartbeatMsg{}));
    coordinator_.Tick();
  }
  EXPECT_EQ(StateOf(r), "failed");
  EXPECT_STREQ(Json(*coordinator_.GetRun(r, false))["end_reason"].GetString(),
               "no_workers");
  EXPECT_EQ(StateOf(behind), "starting");
}

TEST_F(CoordinatorQueueTest, QueuedRunsSurviveARestartInOrder) {
  MemoryRunStore store;
  std::vector<std::string> queued;
  {
    Coordinator first(&bus_, &clock_, {}, &store);
    Register(&first, 1, "h1", 0);
    Create(&first, PlanFor(""));
    queued.push_back(Create(&first, PlanFor(R"("name": "q1")")));
    queued.push_back(Create(&first, PlanFor(R"("name": "q2")")));
    queued.push_back(Create(&first, PlanFor(R"("name": "q3", "priority": 1)")));
    first.Persist();
  }
  Coordinator second(&bus_, &clock_, {}, &store);
  ASSERT_TRUE(second.LoadStoredRuns().ok());
  second.Tick();
  // No worker is back yet: the head waits for one (expect_timeout), in place.
  EXPECT_EQ(StateOf(&second, queued[2]), "waiting");
  EXPECT_EQ(StateOf(&second, queued[0]), "queued");
  EXPECT_EQ(PositionOf(&second, queued[2]), 1);
  EXPECT_EQ(PositionOf(&second, queued[0]), 2);
  EXPECT_EQ(PositionOf(&second, queued[1]), 3);
  bus_.sent.clear();
  Register(&second, 7, "h1", 0);
  second.Tick();
  EXPECT_EQ(StateOf(&second, queued[2]), "starting");
  EXPECT_EQ(bus_.AssignedTo(queued[2]), (std::set<uint32_t>{7}));
  EXPECT_EQ(PositionOf(&second, queued[0]), 1);
}

TEST_F(CoordinatorQueueTest, PlacementFieldsAreValidatedWithTheirPaths) {
  Register(1, "h1", 0);
  struct Case {
    std::string extra, path;
  } cases[] = {
      {R"("workers": 3)", "$.workers"},
      {R"("workers": {"count": 0})", "$.workers.count"},
      {R"("workers": {"labels": {"pool": "a b"}})", "$.workers.labels.pool"},
      {R"("workers": {"size": 2})", "$.workers.size"},
      {R"("priority": 1001)", "$.priority"},
      {R"("queue": "no")", "$.queue"},
  };
  for (const Case& c : cases) {
    Result<std::string> r = coordinator_.CreateRun(PlanFor(c.extra));
    ASSERT_FALSE(r.ok()) << c.extra;
    EXPECT_EQ(HttpCodeOf(r.status()), 400) << c.extra;
    EXPECT_EQ(r.status().path(), c.path) << c.extra << ": " << r.status().ToString();
  }
  Result<std::string> none =
      coordinator_.CreateRun(PlanFor(R"("workers": {"labels": {"pool": "z"}})"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(HttpCodeOf(none.status()), 409);
  EXPECT_EQ(none.status().path(), "$.workers.labels");
}

}  // namespace
}  // namespace loadd
