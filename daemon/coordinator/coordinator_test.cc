#include "daemon/coordinator/coordinator.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "daemon/coordinator/rest_api.h"

namespace loadd {

// Whether the coordinator's lock is free right now, asked from another
// thread with a try-lock: it never waits, so a send made under the lock
// shows as "held" instead of deadlocking the test.
class CoordinatorLockProbe {
 public:
  static bool LockIsFree(Coordinator* c) {
    bool free = false;
    std::thread probe([&]() NO_THREAD_SAFETY_ANALYSIS {
      // try_lock may fail spuriously: a free lock is taken within a few tries.
      for (int i = 0; i < 100 && !free; ++i) {
        if (c->mu_.TryLock()) {
          c->mu_.Unlock();
          free = true;
        } else {
          std::this_thread::yield();
        }
      }
    });
    probe.join();
    return free;
  }
};

namespace {

class FakeBus : public FleetBus {
 public:
  void SendTo(uint32_t pipe, const std::string& bytes) override {
    Result<Message> m = DecodeMessage(bytes);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    sent.push_back({pipe, std::move(*m)});
  }
  int64_t DeliveredUpToNs(int64_t now_ns) const override {
    return delivered_up_to_ns != 0 ? delivered_up_to_ns : now_ns;
  }
  int64_t delivered_up_to_ns = 0;  // 0: caught up (now)
  template <typename T>
  std::vector<std::pair<uint32_t, T>> Of() const {
    std::vector<std::pair<uint32_t, T>> out;
    for (const auto& [pipe, m] : sent) {
      if (auto* t = std::get_if<T>(&m)) out.push_back({pipe, *t});
    }
    return out;
  }
  std::vector<std::pair<uint32_t, Message>> sent;
};

constexpr const char* kPlan =
    R"({"target": "http://127.0.0.1:9/x", "users": 5, "spawn_rate": 5, "duration": "2s"})";

class CoordinatorTest : public ::testing::Test {
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
    for (int64_t i = 0; i < requests; ++i) e.latency_us.Record(1000 + i);
    stats.endpoints.push_back(e);
    coordinator_.OnMessage(pipe, EncodeMessage(stats));
  }
  rapidjson::Document Json(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    EXPECT_FALSE(doc.HasParseError()) << text;
    return doc;
  }

  FakeBus bus_;
  FakeClock clock_{1'000'000'000'000};
  Coordinator coordinator_{&bus_, &clock_};
};

TEST_F(CoordinatorTest, RunWithoutWorkersIsRefused) {
  Result<std::string> r = coordinator_.CreateRun(kPlan);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(HttpCodeOf(r.status()), 409);
  EXPECT_NE(r.status().message().find("no live workers"), std::string::npos);
}

TEST_F(CoordinatorTest, BadPlanNamesTheFieldAndChangesNothing) {
  Register(1, "a", 0);
  Result<std::string> r =
      coordinator_.CreateRun(R"({"target": "http://h", "users": -1})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(HttpCodeOf(r.status()), 400);
  EXPECT_EQ(r.status().path(), "$.users");
  EXPECT_EQ(bus_.Of<AssignMsg>().size(), 0u);
  EXPECT_EQ(Json(coordinator_.ListRuns())["runs"].Size(), 0u);
  rapidjson::Document err = Json(ErrorJson(r.status()));
  EXPECT_STREQ(err["error"]["path"].GetString(), "$.users");
}

TEST_F(CoordinatorTest, RunIsStripedMergedAndFinished) {
  Register(1, "b", 0);
  Register(2, "a", 0);
  Register(3, "a", 1);
  Result<std::string> created = coordinator_.CreateRun(kPlan);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::string id = Json(*created)["id"].GetString();

  auto assigns = bus_.Of<AssignMsg>();
  ASSERT_EQ(assigns.size(), 3u);
  // Striped order: a/0, b/0, a/1.
  std::map<uint32_t, int64_t> stripe;
  for (const auto& [pipe, a] : assigns) stripe[pipe] = a.share[0].residue;
  EXPECT_EQ(stripe[2], 0);
  EXPECT_EQ(stripe[1], 1);
  EXPECT_EQ(stripe[3], 2);

  clock_.AdvanceNs(1'500'000'000);
  coordinator_.Tick();
  SendStats(1, id, 10, false);
  SendStats(2, id, 20, false);
  clock_.AdvanceNs(1'000'000'000);
  SendStats(1, id, 5, true);
  SendStats(2, id, 5, true);
  coordinator_.Tick();
  EXPECT_EQ(Json(*coordinator_.GetRun(id, false))["state"], "running");
  SendStats(3, id, 7, true);

  rapidjson::Document run = Json(*coordinator_.GetRun(id, true));
  EXPECT_STREQ(run["state"].GetString(), "finished");
  EXPECT_EQ(run["totals"]["requests"].GetInt64(), 47);
  EXPECT_EQ(run["endpoints"][0]["requests"].GetInt64(), 47);
  EXPECT_GE(run["endpoints"][0]["p50_us"].GetInt64(), 1000);
  int64_t timeline_total = 0;
  for (const auto& s : run["timeline"].GetArray())
    timeline_total += s["requests"].GetInt64();
  EXPECT_EQ(timeline_total, 47);
  EXPECT_EQ(run["workers"].Size(), 3u);
  int64_t assigned = 0;
  for (const auto& w : run["workers"].GetArray()) assigned += w["users"].GetInt64();
  EXPECT_EQ(assigned, 5);
}

// Regression: a 1-row data file in shared mode on 2 workers left the second
// worker's users idle and the run finished without a word about it.
TEST_F(CoordinatorTest, DataFileWithFewerRowsThanWorkersIsAWarningOfTheRun) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  auto plan = [](const std::string& mode, const std::string& content) {
    return R"({"target": "http://127.0.0.1:9", "users": 2, "spawn_rate": 2,
      "duration": "2s", "scenarios": [{"steps": [{"path": "/{{data.id}}"}]}],
      "data": {"name": "ids.csv", "mode": ")" +
           mode + R"(", "content": ")" + content + R"("}})";
  };
  Result<std::string> created = coordinator_.CreateRun(plan("shared", "id\\n1\\n"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::string id = Json(*created)["id"].GetString();
  clock_.AdvanceNs(2'500'000'000);
  coordinator_.Tick();
  SendStats(1, id, 3, true);
  SendStats(2, id, 0, true);
  coordinator_.Tick();

  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  EXPECT_STREQ(run["state"].GetString(), "finished");
  const rapidjson::Value* warning = nullptr;
  for (const auto& w : run["warnings"].GetArray()) {
    if (std::string(w["kind"].GetString()) == "data") warning = &w;
  }
  ASSERT_NE(warning, nullptr) << "no data warning";
  EXPECT_EQ((*warning)["workers"].GetInt64(), 1);
  EXPECT_EQ((*warning)["rows"].GetInt64(), 1);
  EXPECT_NE(std::string((*warning)["message"].GetString())
                .find("1 of 2 workers got no row of ids.csv (1 row, mode shared)"),
            std::string::npos)
      << (*warning)["message"].GetString();
  std::vector<int64_t> rows;
  for (const auto& w : run["workers"].GetArray())
    rows.push_back(w["data_rows"].GetInt64());
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(Json(coordinator_.ListRuns())["runs"][0]["warnings"].GetInt64(), 1);

  // One row per worker, or random rows: no warning.
  for (const auto& [mode, content] : std::vector<std::pair<std::string, std::string>>{
           {"sharded", "id\\n1\\n2\\n"}, {"random", "id\\n1\\n"}}) {
    created = coordinator_.CreateRun(plan(mode, content));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    id = Json(*created)["id"].GetString();
    run = Json(*coordinator_.GetRun(id, false));
    for (const auto& w : run["warnings"].GetArray()) {
      EXPECT_STRNE(w["kind"].GetString(), "data") << mode;
    }
    ASSERT_TRUE(coordinator_.StopRun(id).ok());
    SendStats(1, id, 0, true);
    SendStats(2, id, 0, true);
    clock_.AdvanceNs(1'000'000'000);
    coordinator_.Tick();
  }
}

// A stats message whose interval reaches back into a closed second (real
// workers send at least once a second; the wire allows up to a minute) lands
// in the first open second: the timeline stays in order, nothing is lost.
TEST_F(CoordinatorTest, StatsNeverReopenAClosedSecond) {
  Register(1, "a", 0);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 1, "duration": "60s"})"))["id"]
                       .GetString();
  for (int i = 0; i < 6; ++i) {
    clock_.AdvanceNs(1'000'000'000);
    SendStats(1, id, 10, false);
    coordinator_.Tick();
  }
  rapidjson::Document before = Json(*coordinator_.GetRun(id, true));
  ASSERT_GE(before["timeline"].Size(), 2u);
  StatsMsg late;
  late.run_id = id;
  late.interval_ms = 60'000;
  EndpointStats e;
  e.name = "GET /x";
  e.requests = 7;
  for (int64_t i = 0; i < 7; ++i) e.latency_us.Record(5000);
  late.endpoints.push_back(e);
  coordinator_.OnMessage(1, EncodeMessage(late));
  for (int i = 0; i < 5; ++i) {
    clock_.AdvanceNs(1'000'000'000);
    coordinator_.OnMessage(1, EncodeMessage(HeartbeatMsg{id, 1, 1.0}));
    coordinator_.Tick();
  }
  rapidjson::Document run = Json(*coordinator_.GetRun(id, true));
  int64_t previous = -1, total = 0;
  for (const auto& second : run["timeline"].GetArray()) {
    EXPECT_GT(second["t"].GetInt64(), previous) << "seconds out of order or repeated";
    previous = second["t"].GetInt64();
    total += second["requests"].GetInt64();
  }
  EXPECT_EQ(total, 67);
  EXPECT_EQ(run["totals"]["requests"].GetInt64(), 67);
  EXPECT_STREQ(run["state"].GetString(), "running");
}

TEST_F(CoordinatorTest, StopReachesEveryWorkerAndEndsAsStopped) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string id = Json(*coordinator_.CreateRun(kPlan))["id"].GetString();
  // Its workers are busy: a second run that may not queue is refused (one
  // that may is queued: coordinator_queue_test.cc).
  EXPECT_FALSE(
      coordinator_
          .CreateRun(R"({"target": "http://127.0.0.1:9/x", "users": 5, "spawn_rate": 5,
                                  "duration": "2s", "queue": false})")
          .ok())
      << "a second concurrent run must be refused";
  ASSERT_TRUE(coordinator_.StopRun(id).ok());
  EXPECT_EQ(bus_.Of<StopMsg>().size(), 2u);
  SendStats(1, id, 1, true);
  SendStats(2, id, 1, true);
  EXPECT_STREQ(Json(*coordinator_.GetRun(id, false))["state"].GetString(), "stopped");
  EXPECT_EQ(HttpCodeOf(coordinator_.StopRun(id).status()), 409);
  EXPECT_EQ(HttpCodeOf(coordinator_.StopRun("nope").status()), 404);
}

TEST_F(CoordinatorTest, SilentWorkerIsLostAndRunEnds) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string id = Json(*coordinator_.CreateRun(kPlan))["id"].GetString();
  SendStats(1, id, 3, true);
  clock_.AdvanceNs(4'000'000'000);
  coordinator_.Tick();
  rapidjson::Document workers = Json(coordinator_.ListWorkers());
  int lost = 0;
  for (const auto& w : workers["workers"].GetArray())
    lost += std::string(w["state"].GetString()) == "lost";
  EXPECT_EQ(lost, 2);  // pipe 1 also fell silent after its final stats
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  EXPECT_STREQ(run["state"].GetString(), "finished");
  EXPECT_NE(std::string(run["message"].GetString()).find("lost"), std::string::npos);
}

// A coordinator whose bus has fallen behind (messages queued since
// `delivered_up_to`) judges silence up to what it has delivered: a worker
// whose heartbeat may be in that queue is not lost, however late it is by
// the clock. Once the bus has caught up, the silent one is.
TEST_F(CoordinatorTest, BusyBusDefersJudgingSilence) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 10, "duration": "60s"})"))["id"]
                       .GetString();
  int64_t behind_from = clock_.NowNs() + 1'000'000'000;
  clock_.AdvanceNs(1'000'000'000);
  coordinator_.OnMessage(1, EncodeMessage(HeartbeatMsg{id, 5, 1.0}));
  coordinator_.OnMessage(2, EncodeMessage(HeartbeatMsg{id, 5, 1.0}));
  bus_.delivered_up_to_ns = behind_from;
  clock_.AdvanceNs(10'000'000'000);  // far past the 3 s timeout by the clock
  coordinator_.Tick();
  auto states = [&] {
    std::map<std::string, std::string> out;
    rapidjson::Document doc = Json(coordinator_.ListWorkers());  // outlives the loop
    for (const auto& w : doc["workers"].GetArray()) {
      out[w["id"].GetString()] = w["state"].GetString();
    }
    return out;
  };
  EXPECT_NE(states()["a/0"], "lost");
  EXPECT_NE(states()["a/1"], "lost");
  EXPECT_EQ(bus_.Of<ReshareMsg>().size(), 0u);
  // The queue drains: a/0's queued heartbeat arrives, a/1 had sent nothing.
  coordinator_.OnMessage(1, EncodeMessage(HeartbeatMsg{id, 5, 1.0}));
  bus_.delivered_up_to_ns = 0;
  coordinator_.Tick();
  EXPECT_NE(states()["a/0"], "lost");
  EXPECT_EQ(states()["a/1"], "lost");
  EXPECT_EQ(bus_.Of<ReshareMsg>().size(), 1u);
  EXPECT_STREQ(Json(*coordinator_.GetRun(id, false))["state"].GetString(), "running");
}

TEST_F(CoordinatorTest, ExpectWorkersWaitsThenStarts) {
  Register(1, "a", 0);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 4, "expect_workers": 2})"))["id"]
                       .GetString();
  EXPECT_STREQ(Json(*coordinator_.GetRun(id, false))["state"].GetString(), "waiting");
  EXPECT_EQ(bus_.Of<AssignMsg>().size(), 0u);
  Register(2, "b", 0);
  coordinator_.Tick();
  EXPECT_STREQ(Json(*coordinator_.GetRun(id, false))["state"].GetString(), "starting");
  EXPECT_EQ(bus_.Of<AssignMsg>().size(), 2u);
}

TEST_F(CoordinatorTest, ExpectWorkersTimesOutClearly) {
  Register(1, "a", 0);
  std::string id = Json(*coordinator_.CreateRun(R"({"target": "http://127.0.0.1:9/",
      "users": 4, "expect_workers": 3, "expect_timeout": "5s"})"))["id"]
                       .GetString();
  clock_.AdvanceNs(6'000'000'000);
  coordinator_.OnMessage(1, EncodeMessage(HeartbeatMsg{}));
  coordinator_.Tick();
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  EXPECT_STREQ(run["state"].GetString(), "failed");
  EXPECT_NE(std::string(run["message"].GetString()).find("only 1 of 3 expected workers"),
            std::string::npos)
      << run["message"].GetString();
}

// Fleet-wide users of the run's workers, as the sum of their classes.
int64_t UsersOf(const std::vector<ShareChange>& share, int64_t users) {
  int64_t n = 0;
  for (const ShareChange& c : share) n += CountInClass(users, c.modulus, c.residue);
  return n;
}

TEST_F(CoordinatorTest, LostWorkersShareIsDealtToTheOthers) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  Register(3, "a", 2);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 300, "spawn_rate": 100,
          "duration": "60s"})"))["id"]
                       .GetString();
  clock_.AdvanceNs(5'000'000'000);
  coordinator_.OnDisconnect(2);  // a/1, stripe 1
  auto reshares = bus_.Of<ReshareMsg>();
  ASSERT_EQ(reshares.size(), 2u);
  // The two heirs now hold every user: 100 each of their own + 50 each of a/1's.
  std::vector<int> seen(300, 0);
  for (uint32_t pipe : {1u, 3u}) {
    std::vector<ShareChange> share;
    for (const auto& [p, a] : bus_.Of<AssignMsg>()) {
      if (p == pipe) share = a.share;
    }
    for (const auto& [p, r] : reshares) {
      if (p == pipe) share.insert(share.end(), r.changes.begin(), r.changes.end());
    }
    EXPECT_EQ(UsersOf(share, 300), 150) << pipe;
    for (const ShareChange& c : share) {
      for (int64_t i = c.residue; i < 300; i += c.modulus) ++seen[i];
    }
  }
  for (int i = 0; i < 300; ++i) ASSERT_EQ(seen[i], 1) << i;
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  int64_t assigned = 0;
  for (const auto& w : run["workers"].GetArray()) assigned += w["users"].GetInt64();
  EXPECT_EQ(assigned, 300);
}

// Half the fleet falls silent in one tick (a rack lost): one reshare per
// heir for all of it, every user held exactly once, evenly; then the heirs
// are lost one by one until one holds every user, and no class is ever
// split into empty parts (moduli stay within twice the user count).
TEST_F(CoordinatorTest, ManyLostAtOnceAreDealtOutInOneMessagePerHeir) {
  constexpr int kWorkers = 20;
  constexpr int64_t kUsers = 1000;
  for (int i = 1; i <= kWorkers; ++i) Register(i, "h" + std::to_string(i), 0);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 1000, "spawn_rate": 100,
          "duration": "600s"})"))["id"]
                       .GetString();
  std::map<uint32_t, std::vector<ShareChange>> share;
  for (const auto& [pipe, a] : bus_.Of<AssignMsg>()) share[pipe] = a.share;
  auto take_reshares = [&](size_t* messages) {
    *messages = 0;
    for (const auto& [pipe, r] : bus_.Of<ReshareMsg>()) {
      ++*messages;
      share[pipe].insert(share[pipe].end(), r.changes.begin(), r.changes.end());
    }
    bus_.sent.clear();
  };
  auto check_cover = [&](const std::vector<uint32_t>& live) {
    std::vector<int> seen(kUsers, 0);
    for (uint32_t pipe : live) {
      for (const ShareChange& c : share[pipe]) {
        ASSERT_TRUE(c.add);
        ASSERT_LE(c.modulus, 2 * kUsers) << pipe;  // no empty parts
        for (int64_t i = c.residue; i < kUsers; i += c.modulus) ++seen[i];
      }
    }
    for (int64_t i = 0; i < kUsers; ++i) ASSERT_EQ(seen[i], 1) << "user " << i;
  };
  bus_.sent.clear();
  clock_.AdvanceNs(2'000'000'000);
  for (int i = 1; i <= kWorkers / 2; ++i) {
    coordinator_.OnMessage(i, EncodeMessage(HeartbeatMsg{id, 50, 1.0}));
  }
  clock_.AdvanceNs(2'000'000'000);  // 11..20 silent for 4 s, over the 3 s timeout
  coordinator_.Tick();
  size_t messages = 0;
  take_reshares(&messages);
  EXPECT_EQ(messages, 10u);  // one per heir, not one per heir per lost worker
  std::vector<uint32_t> live;
  for (uint32_t i = 1; i <= kWorkers / 2; ++i) live.push_back(i);
  check_cover(live);
  for (uint32_t pipe : live) EXPECT_EQ(UsersOf(share[pipe], kUsers), 100) << pipe;
  while (live.size() > 1) {
    coordinator_.OnDisconnect(live.back());
    live.pop_back();
    take_reshares(&messages);
    EXPECT_EQ(messages, live.size());
    check_cover(live);
    int64_t least = kUsers, most = 0;
    for (uint32_t pipe : live) {
      least = std::min(least, UsersOf(share[pipe], kUsers));
      most = std::max(most, UsersOf(share[pipe], kUsers));
    }
    // Parts aim at an eighth of what each heir gains (1,000 users here).
    EXPECT_LE(most - least, 4) << live.size() << " left";
  }
  EXPECT_EQ(UsersOf(share[1], kUsers), kUsers);
}

// A coordinator that never catches up still judges silence, at most three
// timeouts late: a dead worker is always declared lost in the end.
TEST_F(CoordinatorTest, BusyBusJudgesAtMostThreeTimeoutsLate) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 10, "duration": "600s"})"))["id"]
                       .GetString();
  bus_.delivered_up_to_ns = clock_.NowNs();  // never drained from here on
  auto lost = [&] {
    int n = 0;
    rapidjson::Document doc = Json(coordinator_.ListWorkers());  // outlives the loop
    for (const auto& w : doc["workers"].GetArray()) {
      n += std::string(w["state"].GetString()) == "lost";
    }
    return n;
  };
  clock_.AdvanceNs(8'000'000'000);
  coordinator_.Tick();
  EXPECT_EQ(lost(), 0);
  clock_.AdvanceNs(
      5'000'000'000);  // 13 s: judged up to 13 - 9 = 4 s, past the 3 s timeout
  coordinator_.Tick();
  EXPECT_EQ(lost(), 2);
  EXPECT_STREQ(Json(*coordinator_.GetRun(id, false))["state"].GetString(), "failed");
}

// Open model: the plan has no user count, so classes are weighed by their
// share of the arrivals. A lost worker's share is split over every heir, not
// handed whole to one.
TEST_F(CoordinatorTest, OpenModelLostShareIsSplitOverTheHeirs) {
  for (int i = 1; i <= 4; ++i) Register(i, "h" + std::to_string(i), 0);
  Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "arrival_rate": 400, "duration": "600s"})"));
  bus_.sent.clear();
  clock_.AdvanceNs(2'000'000'000);
  coordinator_.OnDisconnect(4);
  auto reshares = bus_.Of<ReshareMsg>();
  ASSERT_EQ(reshares.size(), 3u);
  double total = 0;
  for (const auto& [pipe, r] : reshares) {
    double mine = 0;
    for (const ShareChange& c : r.changes) mine += 1.0 / static_cast<double>(c.modulus);
    EXPECT_NEAR(mine, 0.25 / 3, 1e-9) << pipe;
    total += mine;
  }
  EXPECT_NEAR(total, 0.25, 1e-9);
}

// Fewer users than workers: the lost workers' empty classes are not dealt
// out, and no heir collects them.
TEST_F(CoordinatorTest, EmptyClassesAreNotDealtOut) {
  for (int i = 1; i <= 10; ++i) Register(i, "h" + std::to_string(i), 0);
  Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 3, "duration": "600s"})"));
  std::map<uint32_t, int64_t> held;
  for (const auto& [pipe, a] : bus_.Of<AssignMsg>()) held[pipe] = UsersOf(a.share, 3);
  bus_.sent.clear();
  clock_.AdvanceNs(2'000'000'000);
  for (uint32_t pipe = 10; pipe >= 5; --pipe) coordinator_.OnDisconnect(pipe);
  int64_t moved = 0, lost_users = 0;
  for (uint32_t pipe = 5; pipe <= 10; ++pipe) lost_users += held[pipe];
  for (const auto& [pipe, r] : bus_.Of<ReshareMsg>()) {
    EXPECT_LT(pipe, 5u);
    for (const ShareChange& c : r.changes) {
      EXPECT_EQ(CountInClass(3, c.modulus, c.residue), 1) << pipe;
      ++moved;
    }
  }
  EXPECT_EQ(moved, lost_users);
}

TEST_F(CoordinatorTest, JoiningWorkerTakesAFairShareFromEveryone) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 300, "spawn_rate": 100,
          "duration": "60s"})"))["id"]
                       .GetString();
  clock_.AdvanceNs(5'000'000'000);
  Register(3, "b", 0);
  auto assigns = bus_.Of<AssignMsg>();
  ASSERT_EQ(assigns.size(), 3u);
  EXPECT_EQ(assigns[2].first, 3u);
  EXPECT_GT(assigns[2].second.run_time_ms, 4000);  // joins a run already going
  EXPECT_EQ(UsersOf(assigns[2].second.share, 300), 100);
  auto reshares = bus_.Of<ReshareMsg>();
  ASSERT_EQ(reshares.size(), 2u);
  for (const auto& [pipe, r] : reshares) {
    for (const ShareChange& c : r.changes) EXPECT_FALSE(c.add);
    EXPECT_EQ(UsersOf(r.changes, 300), 50) << pipe;
  }
}

TEST_F(CoordinatorTest, GarbageFromAPeerChangesNothing) {
  Register(1, "a", 0);
  coordinator_.OnMessage(1, "{{{{");
  coordinator_.OnMessage(1, R"({"type":"stats","run_id":"nope","endpoints":[]})");
  coordinator_.OnMessage(99, EncodeMessage(HeartbeatMsg{}));  // unknown pipe
  EXPECT_EQ(coordinator_.LiveWorkers(), 1u);
}

// --- Worker faults: goodbye, early final stats, returning workers ------------

constexpr const char* kLongPlan =
    R"({"target": "http://127.0.0.1:9/", "users": 300, "spawn_rate": 100, "duration": "60s"})";

// users (assigned) of each worker in the run view, by id; a worker listed
// twice keeps its last entry.
std::map<std::string, int64_t> RunUsers(const rapidjson::Document& run) {
  std::map<std::string, int64_t> users;
  for (const auto& w : run["workers"].GetArray())
    users[w["id"].GetString()] = w["users"].GetInt64();
  return users;
}

TEST_F(CoordinatorTest, WelcomeTellsTheHeartbeatIntervalAndTimeout) {
  struct Case {
    int64_t timeout_ms, want_interval_ms;
  };
  const Case kCases[] = {
      {3000, 1000}, {1000, 333}, {500, 166}, {60'000, 1000}, {200, 100}};
  for (const Case& c : kCases) {
    FakeBus bus;
    CoordinatorConfig config;
    config.heartbeat_timeout_ms = c.timeout_ms;
    Coordinator coordinator(&bus, &clock_, config);
    coordinator.OnConnect(1);
    coordinator.OnMessage(1, EncodeMessage(HelloMsg{"a", 0, 0, 2, 100, "t", ""}));
    auto welcomes = bus.Of<WelcomeMsg>();
    ASSERT_EQ(welcomes.size(), 1u);
    EXPECT_EQ(welcomes[0].second.heartbeat_ms, c.want_interval_ms) << c.timeout_ms;
    EXPECT_EQ(welcomes[0].second.heartbeat_timeout_ms, c.timeout_ms);
  }
}

TEST_F(CoordinatorTest, GoodbyeAfterFinalStatsRemovesTheWorkerAndItsShareMoves) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  Register(3, "a", 2);
  std::string id = Json(*coordinator_.CreateRun(kLongPlan))["id"].GetString();
  clock_.AdvanceNs(5'000'000'000);
  SendStats(3, id, 10, true);  // SIGTERM: the final stats first ...
  auto reshares = bus_.Of<ReshareMsg>();
  ASSERT_EQ(reshares.size(), 2u);  // ... deal its share out at once
  coordinator_.OnMessage(3,
                         EncodeMessage(GoodbyeMsg{"shutting down"}));  // ... then goodbye
  rapidjson::Document workers = Json(coordinator_.ListWorkers());
  ASSERT_EQ(workers["workers"].Size(), 2u);
  for (const auto& w : workers["workers"].GetArray())
    EXPECT_STRNE(w["id"].GetString(), "a/2");
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  std::map<std::string, int64_t> users = RunUsers(run);
  EXPECT_EQ(users["a/0"] + users["a/1"], 300);
  EXPECT_EQ(users["a/2"], 0);
  EXPECT_STREQ(run["workers"][2]["state"].GetString(), "done");
  coordinator_.OnDisconnect(3);  // the process exits; nothing left to lose
  SendStats(1, id, 1, true);
  SendStats(2, id, 1, true);
  run = Json(*coordinator_.GetRun(id, false));
  EXPECT_STREQ(run["state"].GetString(), "finished");
  EXPECT_STREQ(run["message"].GetString(), "");
  EXPECT_EQ(run["totals"]["requests"].GetInt64(), 12);
}

TEST_F(CoordinatorTest, GoodbyeWithoutFinalStatsIsALoss) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string id = Json(*coordinator_.CreateRun(kLongPlan))["id"].GetString();
  clock_.AdvanceNs(5'000'000'000);
  coordinator_.OnMessage(2, EncodeMessage(HeartbeatMsg{id, 150, 10}));
  coordinator_.OnMessage(2, EncodeMessage(GoodbyeMsg{}));
  ASSERT_EQ(bus_.Of<ReshareMsg>().size(), 1u);
  EXPECT_EQ(coordinator_.LiveWorkers(), 1u);
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  EXPECT_EQ(RunUsers(run)["a/0"], 300);
  EXPECT_STREQ(run["workers"][1]["state"].GetString(), "lost");
}

TEST_F(CoordinatorTest, FinalStatsAtTheRunsEndMoveNothing) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string id = Json(*coordinator_.CreateRun(kLongPlan))["id"].GetString();
  clock_.AdvanceNs(60'300'000'000);  // start delay + duration
  coordinator_.OnMessage(1, EncodeMessage(HeartbeatMsg{id, 150, 10}));
  coordinator_.OnMessage(2, EncodeMessage(HeartbeatMsg{id, 150, 10}));
  SendStats(1, id, 1, true);
  EXPECT_EQ(bus_.Of<ReshareMsg>().size(), 0u);
  SendStats(2, id, 1, true);
  EXPECT_STREQ(Json(*coordinator_.GetRun(id, false))["state"].GetString(), "finished");
}

// A hung (SIGSTOP) or cut-off worker that comes back after its share moved:
// its late stats count, it is told to stop, and its new hello leaves it idle.
TEST_F(CoordinatorTest, LostWorkerThatComesBackStaysIdleForTheRun) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  Register(3, "a", 2);
  std::string id = Json(*coordinator_.CreateRun(kLongPlan))["id"].GetString();
  for (int i = 0; i < 5; ++i) {
    clock_.AdvanceNs(1'000'000'000);
    SendStats(1, id, 1, false);
    SendStats(2, id, 1, false);
    coordinator_.Tick();
  }
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  ASSERT_STREQ(run["workers"][2]["state"].GetString(), "lost");
  size_t assigns = bus_.Of<AssignMsg>().size();
  // It wakes up: a heartbeat of the old run, its last stats, then hello.
  coordinator_.OnMessage(3, EncodeMessage(HeartbeatMsg{id, 100, 10}));
  auto stops = bus_.Of<StopMsg>();
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].first, 3u);
  SendStats(3, id, 7, true);
  coordinator_.OnMessage(3, EncodeMessage(HelloMsg{"a", 2, 2, 2, 100, "t", ""}));
  EXPECT_EQ(bus_.Of<AssignMsg>().size(), assigns);  // no share of this run
  EXPECT_EQ(bus_.Of<WelcomeMsg>().size(), 4u);
  rapidjson::Document workers = Json(coordinator_.ListWorkers());
  std::string state;
  for (const auto& w : workers["workers"].GetArray()) {
    if (std::string(w["id"].GetString()) == "a/2") state = w["state"].GetString();
  }
  EXPECT_EQ(state, "idle");
  run = Json(*coordinator_.GetRun(id, false));
  std::map<std::string, int64_t> users = RunUsers(run);
  EXPECT_EQ(users["a/0"] + users["a/1"], 300);
  EXPECT_EQ(users["a/2"], 0);
  EXPECT_EQ(run["totals"]["requests"].GetInt64(), 17);  // late, not lost
}

// A worker lost for longer than lost_worker_keep_ms is forgotten, but its
// connection may still be open (a long SIGSTOP): its hello is heard.
TEST_F(CoordinatorTest, ForgottenWorkerOnAnOpenPipeMayRegisterAgain) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  for (int i = 0; i < 70; ++i) {
    clock_.AdvanceNs(1'000'000'000);
    coordinator_.OnMessage(1, EncodeMessage(HeartbeatMsg{}));
    coordinator_.Tick();
  }
  EXPECT_EQ(Json(coordinator_.ListWorkers())["workers"].Size(), 1u);
  coordinator_.OnMessage(2, EncodeMessage(HeartbeatMsg{}));  // not registered: ignored
  EXPECT_EQ(coordinator_.LiveWorkers(), 1u);
  coordinator_.OnMessage(2, EncodeMessage(HelloMsg{"a", 1, 1, 2, 100, "t", ""}));
  EXPECT_EQ(coordinator_.LiveWorkers(), 2u);
}

// --- No I/O under the lock ---------------------------------------------------

// A FleetBus that, on every send, checks that the coordinator's lock is
// free and that the coordinator can still answer (ListWorkers takes it).
class ProbingBus : public FakeBus {
 public:
  void SendTo(uint32_t pipe, const std::string& bytes) override {
    FakeBus::SendTo(pipe, bytes);
    if (!CoordinatorLockProbe::LockIsFree(coordinator)) {
      ++sent_under_lock;
      return;  // ListWorkers would deadlock
    }
    EXPECT_FALSE(coordinator->ListWorkers().empty());
  }
  Coordinator* coordinator = nullptr;
  int sent_under_lock = 0;
};

// Regression: every SendTo ran under the coordinator's lock, and the bus may
// block for up to 100 ms when its queue is full, stalling REST, the ticker
// and the bus thread. Every path that sends (welcome, assign, ping, join
// reshare, lost-worker reshare, stop of a returning worker, stop) must send
// with the lock released.
TEST(CoordinatorOutboxTest, NothingIsSentUnderTheLock) {
  ProbingBus bus;
  FakeClock clock{1'000'000'000'000};
  Coordinator coordinator(&bus, &clock);
  bus.coordinator = &coordinator;
  auto hello = [&](uint32_t pipe, int64_t instance) {
    coordinator.OnConnect(pipe);
    coordinator.OnMessage(
        pipe, EncodeMessage(HelloMsg{"a", instance, instance, 2, 100, "t", ""}));
  };
  hello(1, 0);
  hello(2, 1);
  Result<std::string> created = coordinator.CreateRun(kLongPlan);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  rapidjson::Document doc;
  doc.Parse(created->c_str());
  std::string id = doc["id"].GetString();
  clock.AdvanceNs(2'000'000'000);
  coordinator.Tick();            // pings
  hello(3, 2);                   // joins: reshares and an assign
  for (int i = 0; i < 5; ++i) {  // 2 and 3 go silent: lost, their shares dealt out
    clock.AdvanceNs(1'000'000'000);
    coordinator.OnMessage(1, EncodeMessage(HeartbeatMsg{id, 100, 10}));
    coordinator.Tick();
  }
  coordinator.OnMessage(2, EncodeMessage(HeartbeatMsg{id, 100, 10}));  // back: stop
  ASSERT_TRUE(coordinator.StopRun(id).ok());
  for (const char* type : {"welcome", "assign", "ping", "reshare", "stop"}) {
    EXPECT_TRUE(std::any_of(
        bus.sent.begin(), bus.sent.end(),
        [&](const auto& s) { return std::string(MessageTypeName(s.second)) == type; }))
        << "no " << type << " was sent: the test misses a path";
  }
  EXPECT_EQ(bus.sent_under_lock, 0) << "of " << bus.sent.size() << " messages";
  // Queued order is sent order: each pipe hears its welcome first, and the
  // newcomer its welcome before its assign.
  std::map<uint32_t, std::vector<std::string>> by_pipe;
  for (const auto& [pipe, m] : bus.sent) by_pipe[pipe].push_back(MessageTypeName(m));
  for (const auto& [pipe, types] : by_pipe) EXPECT_EQ(types[0], "welcome") << pipe;
  ASSERT_GE(by_pipe[3].size(), 2u);
  EXPECT_EQ(by_pipe[3][1], "assign");
}

// --- Thresholds, checks and the interval log ---------------------------------

EndpointStats Endpoint(const std::string& name, int64_t requests, int64_t failures,
                       int64_t latency_us) {
  EndpointStats e;
  e.name = name;
  e.requests = requests;
  e.failures = failures;
  e.errors[static_cast<int>(ErrorKind::kStatus)] = failures;
  e.latency_us.RecordN(latency_us, requests);
  return e;
}

class RunDataTest : public CoordinatorTest {
 protected:
  // Two workers, a 60 s run with these thresholds, started and running.
  std::string Start(const std::string& thresholds) {
    Register(1, "a", 0);
    Register(2, "a", 1);
    std::string plan =
        R"({"target": "http://127.0.0.1:9/x", "users": 4, "duration": "60s",
                           "thresholds": )" +
        thresholds + "}";
    Result<std::string> created = coordinator_.CreateRun(plan);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return "";
    clock_.AdvanceNs(300'000'000);  // the start delay
    coordinator_.Tick();
    return Json(*created)["id"].GetString();
  }
  void Send(uint32_t pipe, const std::string& id, std::vector<EndpointStats> endpoints,
            std::vector<CheckCount> checks = {}, bool final = false) {
    StatsMsg stats;
    stats.run_id = id;
    stats.final = final;
    stats.endpoints = std::move(endpoints);
    stats.checks = std::move(checks);
    coordinator_.OnMessage(pipe, EncodeMessage(stats));
  }
  // Heartbeats from both workers, so neither is lost while the clock moves.
  void Beat(const std::string& id) {
    coordinator_.OnMessage(1, EncodeMessage(HeartbeatMsg{id, 2, 10}));
    coordinator_.OnMessage(2, EncodeMessage(HeartbeatMsg{id, 2, 10}));
  }
  void Finish(const std::string& id) {
    Send(1, id, {}, {}, true);
    Send(2, id, {}, {}, true);
  }
  // thresholds[] of the run by key.
  std::map<std::string, const rapidjson::Value*> ByKey(const rapidjson::Document& run) {
    std::map<std::string, const rapidjson::Value*> out;
    for (const auto& t : run["thresholds"].GetArray()) out[t["key"].GetString()] = &t;
    return out;
  }
};

TEST_F(RunDataTest, ThresholdsAreEvaluatedAtTheEnd) {
  std::string id =
      Start(R"({"http.p95": "<5ms", "http.max": "<2ms", "http.error_rate": "<1%",
      "step:GET /slow.p50": ">=9ms", "step:GET /nope.p95": "<1s", "http.rps": ">1",
      "checks.pass_rate": ">=75%"})");
  clock_.AdvanceNs(1'200'000'000);
  Send(1, id, {Endpoint("GET /fast", 990, 0, 1000)}, {{"status is 200", 3, 1}});
  Send(2, id, {Endpoint("GET /slow", 10, 10, 9000)}, {{"status is 200", 6, 0}});
  rapidjson::Document live = Json(*coordinator_.GetRun(id, false));
  EXPECT_TRUE(live["thresholds_passed"].IsNull()) << "undecided while running";
  clock_.AdvanceNs(1'000'000'000);
  Finish(id);

  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  ASSERT_STREQ(run["state"].GetString(), "finished");
  auto t = ByKey(run);
  ASSERT_EQ(t.size(), 7u);
  struct Want {
    const char* key;
    bool passed;
    double actual;  // NaN: null
    const char* message;
  };
  const double kNull = std::nan("");
  const Want want[] = {
      {"http.p95", true, 1000, "actual 1.00ms meets <5ms"},
      {"http.max", false, 9007, "actual 9.01ms misses <2ms"},
      {"http.error_rate", true, 0.01, ""},  // 10 / 1000 is not < 1%
      {"step:GET /slow.p50", true, 9007, "meets >=9ms"},
      {"step:GET /nope.p95", false, kNull, "no step named \"GET /nope\""},
      {"http.rps", true, 1000.0 / 2.2, "meets >1"},
      {"checks.pass_rate", true, 0.9, "actual 90.00% meets >=75%"},
  };
  for (const Want& w : want) {
    SCOPED_TRACE(w.key);
    ASSERT_EQ(t.count(w.key), 1u);
    const rapidjson::Value& r = *t[w.key];
    if (std::string(w.key) == "http.error_rate") {
      EXPECT_FALSE(r["passed"].GetBool());
      EXPECT_DOUBLE_EQ(r["actual"].GetDouble(), 0.01);
      continue;
    }
    EXPECT_EQ(r["passed"].GetBool(), w.passed) << r["message"].GetString();
    if (std::isnan(w.actual)) {
      EXPECT_TRUE(r["actual"].IsNull());
    } else {
      EXPECT_NEAR(r["actual"].GetDouble(), w.actual, 0.1);
    }
    EXPECT_NE(std::string(r["message"].GetString()).find(w.message), std::string::npos)
        << r["message"].GetString();
  }
  EXPECT_FALSE(run["thresholds_passed"].GetBool());
  EXPECT_FALSE(Json(coordinator_.ListRuns())["runs"][0]["thresholds_passed"].GetBool());
}

TEST_F(RunDataTest, AllThresholdsPassing) {
  std::string id = Start(R"({"http.p99": "<=1ms", "step:GET /a.error_rate": "<=0"})");
  clock_.AdvanceNs(1'200'000'000);
  Send(1, id, {Endpoint("GET /a", 50, 0, 1000)});
  Finish(id);
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  EXPECT_TRUE(run["thresholds"][0]["passed"].GetBool());
  EXPECT_TRUE(run["thresholds"][1]["passed"].GetBool());
  EXPECT_TRUE(run["thresholds_passed"].GetBool());
  EXPECT_TRUE(Json(coordinator_.ListRuns())["runs"][0]["thresholds_passed"].GetBool());
}

TEST_F(RunDataTest, NoThresholdsPassAndNoDataFails) {
  std::string none = Start("{}");
  Finish(none);
  rapidjson::Document run = Json(*coordinator_.GetRun(none, false));
  EXPECT_EQ(run["thresholds"].Size(), 0u);
  EXPECT_TRUE(run["thresholds_passed"].GetBool());

  clock_.AdvanceNs(1'000'000'000);
  std::string id = Json(*coordinator_.CreateRun(R"({"target": "http://127.0.0.1:9/x",
      "users": 2, "thresholds": {"http.p95": "<1s", "checks.pass_rate": ">0%"}})"))["id"]
                       .GetString();
  Finish(id);
  run = Json(*coordinator_.GetRun(id, false));
  EXPECT_TRUE(run["thresholds"][0]["actual"].IsNull());
  EXPECT_STREQ(run["thresholds"][0]["message"].GetString(), "no latencies recorded");
  EXPECT_STREQ(run["thresholds"][1]["message"].GetString(), "no checks ran");
  EXPECT_FALSE(run["thresholds_passed"].GetBool());
}

TEST_F(RunDataTest, AbortOnFailStopsTheRunAfterItsDelay) {
  std::string id = Start(R"({
      "http.p95": {"condition": "<5ms", "abort_on_fail": true, "delay": "3s"},
      "step:GET /later.p95": {"condition": "<1ms", "abort_on_fail": true},
      "http.error_rate": "<50%"})");
  coordinator_.Tick();
  EXPECT_EQ(bus_.Of<StopMsg>().size(), 0u) << "missing data never aborts";
  clock_.AdvanceNs(1'200'000'000);
  Send(1, id, {Endpoint("GET /x", 100, 0, 20'000)});
  coordinator_.Tick();
  EXPECT_EQ(bus_.Of<StopMsg>().size(), 0u) << "before its delay";
  EXPECT_STREQ(Json(*coordinator_.GetRun(id, false))["state"].GetString(), "running");

  clock_.AdvanceNs(1'900'000'000);  // run time 3.1 s
  Beat(id);
  coordinator_.Tick();
  EXPECT_EQ(bus_.Of<StopMsg>().size(), 2u);
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  EXPECT_STREQ(run["state"].GetString(), "stopping");
  const char* kWhy = "threshold http.p95 <5ms failed (actual 20.0ms); run aborted";
  EXPECT_STREQ(run["message"].GetString(), kWhy);
  coordinator_.Tick();
  EXPECT_EQ(bus_.Of<StopMsg>().size(), 2u) << "aborts once";

  Finish(id);
  run = Json(*coordinator_.GetRun(id, false));
  EXPECT_STREQ(run["state"].GetString(), "stopped");
  EXPECT_STREQ(run["message"].GetString(), kWhy);
  EXPECT_FALSE(run["thresholds_passed"].GetBool());
  EXPECT_FALSE(run["thresholds"][0]["passed"].GetBool());
  EXPECT_NE(std::string(run["thresholds"][0]["message"].GetString())
                .find("aborted the run at 3.1s"),
            std::string::npos)
      << run["thresholds"][0]["message"].GetString();
  EXPECT_TRUE(run["thresholds"][2]["passed"].GetBool())
      << "the others are still evaluated";
}

// Issue 15: the message of a run aborted by a threshold goes on to name the
// workers that sent no final stats (or were lost), so a verdict read from
// its ending took the run for a plain stop. end_reason says what happened.
TEST_F(RunDataTest, ThresholdAbortWithASilentWorkerEndsAbortedByThreshold) {
  std::string id = Start(R"({
      "http.p95": {"condition": "<5ms", "abort_on_fail": true, "delay": "1s"}})");
  clock_.AdvanceNs(1'200'000'000);
  Send(1, id, {Endpoint("GET /x", 100, 0, 20'000)});
  Beat(id);
  coordinator_.Tick();
  ASSERT_EQ(bus_.Of<StopMsg>().size(), 2u) << "aborted";
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  EXPECT_TRUE(run["end_reason"].IsNull()) << "not ended while stopping";
  EXPECT_STREQ(run["aborted_by"].GetString(), "http.p95");
  EXPECT_STREQ(run["workers"][1]["final_stats"].GetString(), "pending");

  // a/0 stops and reports; a/1 stays connected and silent about its stats
  // past graceful_stop (5 s) and the finish grace (5 s).
  Send(1, id, {}, {}, /*final=*/true);
  for (int i = 0; i < 11; ++i) {
    clock_.AdvanceNs(1'000'000'000);
    coordinator_.OnMessage(2, EncodeMessage(HeartbeatMsg{id, 2, 10}));
    coordinator_.Tick();
  }
  run = Json(*coordinator_.GetRun(id, false));
  ASSERT_STREQ(run["state"].GetString(), "stopped");
  EXPECT_STREQ(run["message"].GetString(),
               "threshold http.p95 <5ms failed (actual 20.0ms); run aborted; "
               "1 worker(s) sent no final stats");
  EXPECT_STREQ(run["end_reason"].GetString(), "aborted_by_threshold");
  EXPECT_STREQ(run["aborted_by"].GetString(), "http.p95");
  EXPECT_FALSE(run["thresholds_passed"].GetBool());
  EXPECT_STREQ(run["workers"][0]["final_stats"].GetString(), "received");
  EXPECT_STREQ(run["workers"][1]["final_stats"].GetString(), "missing");
}

TEST_F(RunDataTest, ThresholdAbortWithALostWorkerEndsAbortedByThreshold) {
  std::string id = Start(R"({"http.p95": {"condition": "<5ms", "abort_on_fail": true}})");
  clock_.AdvanceNs(1'200'000'000);
  Send(1, id, {Endpoint("GET /x", 100, 0, 20'000)});
  Beat(id);
  coordinator_.Tick();
  ASSERT_EQ(bus_.Of<StopMsg>().size(), 2u) << "aborted";
  Send(1, id, {}, {}, /*final=*/true);
  clock_.AdvanceNs(4'000'000'000);  // a/1 silent past the 3 s heartbeat timeout
  coordinator_.Tick();
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  ASSERT_STREQ(run["state"].GetString(), "stopped");
  EXPECT_NE(std::string(run["message"].GetString()).find("1 worker(s) lost"),
            std::string::npos)
      << run["message"].GetString();
  EXPECT_STREQ(run["end_reason"].GetString(), "aborted_by_threshold");
  EXPECT_STREQ(run["workers"][1]["final_stats"].GetString(), "lost");
}

// Each way a run ends has its own end_reason, and aborted_by is null unless
// a threshold aborted it.
TEST_F(CoordinatorTest, EveryEndHasItsReason) {
  auto end_of = [&](const std::string& id) {
    rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
    EXPECT_TRUE(run["aborted_by"].IsNull()) << id;
    return std::string(run["state"].GetString()) + " " + run["end_reason"].GetString();
  };
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string completed = Json(*coordinator_.CreateRun(kPlan))["id"].GetString();
  EXPECT_TRUE(Json(*coordinator_.GetRun(completed, false))["end_reason"].IsNull());
  SendStats(1, completed, 3, true);
  SendStats(2, completed, 3, true);
  EXPECT_EQ(end_of(completed), "finished completed");

  std::string stopped = Json(*coordinator_.CreateRun(kPlan))["id"].GetString();
  ASSERT_TRUE(coordinator_.StopRun(stopped).ok());
  SendStats(1, stopped, 1, true);
  SendStats(2, stopped, 1, true);
  EXPECT_EQ(end_of(stopped), "stopped stopped");

  std::string waiting = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 4, "expect_workers": 3})"))["id"]
                            .GetString();
  ASSERT_TRUE(coordinator_.StopRun(waiting).ok());
  EXPECT_EQ(end_of(waiting), "stopped stopped");

  std::string no_workers =
      Json(*coordinator_.CreateRun(R"({"target": "http://127.0.0.1:9/",
      "users": 4, "expect_workers": 3, "expect_timeout": "5s"})"))["id"]
          .GetString();
  clock_.AdvanceNs(6'000'000'000);
  coordinator_.OnMessage(1, EncodeMessage(HeartbeatMsg{}));
  coordinator_.OnMessage(2, EncodeMessage(HeartbeatMsg{}));
  coordinator_.Tick();
  EXPECT_EQ(end_of(no_workers), "failed no_workers");

  std::string lost = Json(*coordinator_.CreateRun(kPlan))["id"].GetString();
  coordinator_.OnDisconnect(1);
  coordinator_.OnDisconnect(2);
  EXPECT_EQ(end_of(lost), "failed all_workers_lost");
}

TEST_F(RunDataTest, ChecksMergeByNameAndAreBounded) {
  std::string id = Start("{}");
  clock_.AdvanceNs(1'200'000'000);
  Send(1, id, {}, {{"b: body has id", 5, 1}, {"a: status is 200", 10, 0}});
  Send(2, id, {}, {{"a: status is 200", 7, 3}});
  std::vector<CheckCount> many;
  for (int i = 0; i < 1003; ++i) many.push_back({"n" + std::to_string(1000 + i), 1, 1});
  Send(1, id, {}, many);
  Finish(id);
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  const rapidjson::Value& checks = run["checks"];
  ASSERT_EQ(checks.Size(), Run::kMaxChecks + 1);  // 1000 names and "other"
  std::map<std::string, std::pair<int64_t, int64_t>> by_name;
  for (const auto& c : checks.GetArray()) {
    by_name[c["name"].GetString()] = {c["passed"].GetInt64(), c["failed"].GetInt64()};
  }
  EXPECT_EQ(by_name["a: status is 200"], std::make_pair(int64_t{17}, int64_t{3}));
  EXPECT_EQ(by_name["b: body has id"], std::make_pair(int64_t{5}, int64_t{1}));
  EXPECT_EQ(by_name["other"],
            std::make_pair(int64_t{5}, int64_t{5}));                // 1003 - 998 names
  EXPECT_STREQ(checks[0]["name"].GetString(), "a: status is 200");  // sorted by name
}

TEST_F(RunDataTest, HlogHoldsEachEndpointsSeconds) {
  std::string id = Start("{}");
  clock_.AdvanceNs(1'200'000'000);  // run time 1.2 s: second 0
  Send(1, id, {Endpoint("GET /a", 30, 0, 1000), Endpoint("POST /b, c", 5, 0, 40'000)});
  Send(2, id, {Endpoint("GET /a", 20, 0, 3000)});
  clock_.AdvanceNs(1'000'000'000);  // second 1
  Send(1, id, {Endpoint("GET /a", 7, 0, 2000)});
  Finish(id);

  Result<std::string> hlog = coordinator_.GetRunHlog(id);
  ASSERT_TRUE(hlog.ok()) << hlog.status().ToString();
  std::istringstream in(*hlog);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 7u) << *hlog;
  EXPECT_EQ(lines[0], "#[Histogram log format version 1.3]");
  EXPECT_EQ(lines[1].rfind("#[StartTime: ", 0), 0u);
  EXPECT_EQ(lines[2].rfind("#[BaseTime: ", 0), 0u);
  EXPECT_EQ(lines[3][0], '"');

  struct Want {
    const char* prefix;
    int64_t count;
    int64_t p50_us;
  };
  const Want want[] = {{"Tag=GET_/a,0.000,1.000,", 50, 1000},
                       {"Tag=POST_/b__c,0.000,1.000,", 5, 40'000},
                       {"Tag=GET_/a,1.000,1.000,", 7, 2000}};
  HdrHistogram merged_a = HdrHistogram::ForLatencyMicros();
  for (size_t i = 0; i < 3; ++i) {
    const std::string& line = lines[4 + i];
    ASSERT_EQ(line.rfind(want[i].prefix, 0), 0u) << line;
    Result<HdrHistogram> h = HdrHistogram::DecodeBase64(line.substr(line.rfind(',') + 1));
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(h->TotalCount(), want[i].count) << line;
    EXPECT_EQ(h->LowestEquivalentValue(h->ValueAtPercentile(50)),
              h->LowestEquivalentValue(want[i].p50_us));
    if (line.rfind("Tag=GET_/a,", 0) == 0) merged_a.Merge(*h);
  }
  // The log's intervals add up to the run's totals for the endpoint.
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  const rapidjson::Value& a = run["endpoints"][0];
  ASSERT_STREQ(a["name"].GetString(), "GET /a");
  EXPECT_EQ(merged_a.TotalCount(), a["requests"].GetInt64());
  EXPECT_EQ(merged_a.ValueAtPercentile(99), a["p99_us"].GetInt64());
  EXPECT_EQ(merged_a.Max(), a["max_us"].GetInt64());

  EXPECT_EQ(HttpCodeOf(coordinator_.GetRunHlog("nope").status()), 404);
}

// Coordinator scale: the aggregate and each second's latency over all
// endpoints are summed from the endpoints' histograms when read, not merged
// with every message. They must still equal recording every value, whichever
// stats form (binary, or the older JSON) each worker sends.
TEST_F(RunDataTest, AggregateAndTimelineEqualRecordingEveryValue) {
  std::string id = Start("{}");
  HdrHistogram all = HdrHistogram::ForLatencyMicros();
  std::vector<HdrHistogram> seconds;
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> latency(std::log(3000.0), 1.0);
  for (int s = 0; s < 3; ++s) {
    clock_.AdvanceNs(1'000'000'000);  // run time s + 1: files into second s
    seconds.push_back(HdrHistogram::ForLatencyMicros());
    for (uint32_t pipe : {1u, 2u}) {
      StatsMsg stats;
      stats.run_id = id;
      for (const char* name : {"GET /a", "GET /b", "POST /c"}) {
        EndpointStats e;
        e.name = name;
        e.requests = 100;
        for (int i = 0; i < 100; ++i) {
          const auto v = static_cast<int64_t>(latency(rng));
          e.latency_us.Record(v);
          all.Record(v);
          seconds.back().Record(v);
        }
        stats.endpoints.push_back(std::move(e));
      }
      coordinator_.OnMessage(
          pipe, pipe == 1 ? EncodeMessage(stats) : EncodeMessageAsJson(stats));
    }
    Beat(id);
  }
  rapidjson::Document live = Json(*coordinator_.GetRun(id, false));
  EXPECT_EQ(live["aggregated"]["p99_us"].GetInt64(), all.ValueAtPercentile(99));
  Finish(id);

  rapidjson::Document run = Json(*coordinator_.GetRun(id, true));
  const rapidjson::Value& agg = run["aggregated"];
  EXPECT_EQ(agg["requests"].GetInt64(), all.TotalCount());
  EXPECT_EQ(agg["min_us"].GetInt64(), all.Min());
  EXPECT_EQ(agg["p50_us"].GetInt64(), all.ValueAtPercentile(50));
  EXPECT_EQ(agg["p99_us"].GetInt64(), all.ValueAtPercentile(99));
  EXPECT_EQ(agg["p999_us"].GetInt64(), all.ValueAtPercentile(99.9));
  EXPECT_EQ(agg["max_us"].GetInt64(), all.Max());
  EXPECT_DOUBLE_EQ(agg["mean_us"].GetDouble(), std::round(all.Mean() * 10) / 10);
  const rapidjson::Value& timeline = run["timeline"];
  ASSERT_GE(timeline.Size(), 3u);
  for (rapidjson::SizeType s = 0; s < 3; ++s) {
    EXPECT_EQ(timeline[s]["requests"].GetInt64(), 600) << s;
    EXPECT_EQ(timeline[s]["p50_us"].GetInt64(), seconds[s].ValueAtPercentile(50)) << s;
    EXPECT_EQ(timeline[s]["p95_us"].GetInt64(), seconds[s].ValueAtPercentile(95)) << s;
    EXPECT_EQ(timeline[s]["p99_us"].GetInt64(), seconds[s].ValueAtPercentile(99)) << s;
    EXPECT_EQ(timeline[s]["max_us"].GetInt64(), seconds[s].Max()) << s;
  }
  // ?since=N: the seconds from t = N on, the same as in the whole timeline.
  for (int64_t since : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{1000}}) {
    rapidjson::Document part = Json(*coordinator_.GetRun(id, true, since));
    const rapidjson::Value& tail = part["timeline"];
    rapidjson::SizeType skipped = 0;
    while (skipped < timeline.Size() && timeline[skipped]["t"].GetInt64() < since)
      ++skipped;
    ASSERT_EQ(tail.Size(), timeline.Size() - skipped) << since;
    for (rapidjson::SizeType i = 0; i < tail.Size(); ++i) {
      EXPECT_EQ(tail[i]["t"].GetInt64(), timeline[skipped + i]["t"].GetInt64());
      EXPECT_EQ(tail[i]["p99_us"].GetInt64(), timeline[skipped + i]["p99_us"].GetInt64());
    }
    EXPECT_EQ(part["aggregated"]["requests"].GetInt64(), all.TotalCount()) << since;
  }
}

TEST(ParseSinceTest, WholeSecondsFromZeroOrANamedRefusal) {
  EXPECT_EQ(*ParseSince(std::nullopt), 0);
  EXPECT_EQ(*ParseSince("0"), 0);
  EXPECT_EQ(*ParseSince("17"), 17);
  EXPECT_EQ(*ParseSince("999999999999"), 999'999'999'999);
  EXPECT_EQ(*ParseSince("0000000000001"), 1);
  EXPECT_EQ(*ParseSince("000"), 0);
  for (const char* bad : {"", "-1", "1.5", "abc", " 3", "3s", "1000000000000"}) {
    Result<int64_t> r = ParseSince(std::string(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(HttpCodeOf(r.status()), 400) << bad;
    EXPECT_EQ(r.status().path(), "since") << bad;
    EXPECT_NE(r.status().message().find("since must be a whole number"),
              std::string::npos)
        << r.status().message();
  }
}

// Live scaling (issue 16 part 4): every worker of the run gets the whole
// new profile with one start instant (run time now + start delay), the run
// records the change as an event, and a worker joining later gets the
// scaled profile right after its assign.
TEST_F(CoordinatorTest, ScaleSendsEveryWorkerTheNewProfileFromOneInstant) {
  Register(1, "a", 0);
  Register(2, "b", 0);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 100,
          "spawn_rate": 100, "duration": "60s"})"))["id"]
                       .GetString();
  clock_.AdvanceNs(2'300'000'000);  // run time 2 s (it starts 300 ms after creation)
  Result<std::string> r =
      coordinator_.ScaleRun(id, ScaleRequest{LoadModel::kClosed, 300}, nullptr, "ci");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  rapidjson::Document reply = Json(*r);
  EXPECT_EQ(reply["event"]["from"].GetDouble(), 100);
  EXPECT_EQ(reply["event"]["to"].GetDouble(), 300);
  EXPECT_EQ(reply["event"]["ramp_rate"].GetDouble(), 100);
  EXPECT_EQ(reply["event"]["at_ms"].GetInt64(), 2300);
  EXPECT_STREQ(reply["event"]["by"].GetString(), "ci");
  auto profiles = bus_.Of<ProfileMsg>();
  ASSERT_EQ(profiles.size(), 2u);
  for (const auto& [pipe, p] : profiles) {
    EXPECT_EQ(p.run_id, id);
    EXPECT_EQ(p.at_ms, 2300) << pipe;
    LoadProfile got(p.knots);
    EXPECT_DOUBLE_EQ(got.ValueAt(2'300'000'000), 100);
    EXPECT_DOUBLE_EQ(got.ValueAt(3'300'000'000), 200);
    EXPECT_DOUBLE_EQ(got.ValueAt(50'000'000'000), 300);
    EXPECT_EQ(got.duration_ns(), 60'000'000'000);
  }
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  ASSERT_EQ(run["events"].Size(), 1u);
  EXPECT_STREQ(run["events"][0]["unit"].GetString(), "users");
  EXPECT_EQ(run["target_users"].GetInt64(), 300);
  int64_t assigned = 0;
  for (const auto& w : run["workers"].GetArray()) assigned += w["users"].GetInt64();
  EXPECT_EQ(assigned, 300);
  // Down again: from the level the line is at then.
  clock_.AdvanceNs(500'000'000);
  r = coordinator_.ScaleRun(id, ScaleRequest{LoadModel::kClosed, 50});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Json(*r)["event"]["from"].GetDouble(), 150);
  // A newcomer gets the scaled profile after its assign, on its own pipe.
  Register(3, "c", 0);
  ASSERT_EQ(bus_.sent.back().first, 3u);
  const auto* last = std::get_if<ProfileMsg>(&bus_.sent.back().second);
  ASSERT_NE(last, nullptr);
  const ProfileMsg sent =
      bus_.Of<ProfileMsg>()[2].second;  // a copy: Of() returns a temporary
  ASSERT_EQ(last->knots.size(), sent.knots.size());
  EXPECT_EQ(last->knots.back().value, 50);
  EXPECT_TRUE(std::holds_alternative<AssignMsg>(bus_.sent[bus_.sent.size() - 2].second));
}

TEST_F(CoordinatorTest, RefusedScalesChangeNothing) {
  Register(1, "a", 0);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "arrival_rate": 200,
          "duration": "5s"})"))["id"]
                       .GetString();
  auto refused = [&](const Result<std::string>& r, int code, const char* text) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(HttpCodeOf(r.status()), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(text), std::string::npos)
        << r.status().ToString();
  };
  // The other model's field, named by its path.
  Result<std::string> r = coordinator_.ScaleRun(id, ScaleRequest{LoadModel::kClosed, 9});
  refused(r, 400, "open-model");
  EXPECT_EQ(r.status().path(), "$.users");
  refused(coordinator_.ScaleRun("nope", ScaleRequest{LoadModel::kOpen, 9}), 404, "nope");
  // Roles: the check's refusal as is.
  refused(coordinator_.ScaleRun(id, ScaleRequest{LoadModel::kOpen, 9},
                                [](const std::string&) {
                                  return Status(StatusCode::kPermissionDenied,
                                                "not yours");
                                }),
          403, "not yours");
  // Too late: the change would begin after the run's end.
  clock_.AdvanceNs(5'100'000'000);
  refused(coordinator_.ScaleRun(id, ScaleRequest{LoadModel::kOpen, 9}), 409, "end");
  EXPECT_TRUE(bus_.Of<ProfileMsg>().empty());
  EXPECT_EQ(Json(*coordinator_.GetRun(id, false))["events"].Size(), 0u);
  // An open run without a ramp steps at once; an ended run is refused.
  clock_.AdvanceNs(-2'000'000'000);
  r = coordinator_.ScaleRun(id, ScaleRequest{LoadModel::kOpen, 600});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Json(*r)["event"]["ramp_rate"].GetDouble(), 0);
  ASSERT_TRUE(coordinator_.StopRun(id).ok());
  refused(coordinator_.ScaleRun(id, ScaleRequest{LoadModel::kOpen, 9}), 409, "stopping");
}

}  // namespace
}  // namespace loadd
