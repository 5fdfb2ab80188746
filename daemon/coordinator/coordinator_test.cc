#include "daemon/coordinator/coordinator.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <vector>

#include "daemon/coordinator/rest_api.h"

namespace loadd {
namespace {

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
  std::vector<std::pair<uint32_t, Message>> sent;
};

constexpr const char* kPlan =
    R"({"target": "http://127.0.0.1:9/x", "users": 5, "spawn_rate": 5, "duration": "2s"})";

class CoordinatorTest : public ::testing::Test {
 protected:
  void Register(uint32_t pipe, const std::string& host, int64_t instance) {
    coordinator_.OnConnect(pipe);
    coordinator_.OnMessage(pipe, EncodeMessage(HelloMsg{host, instance, instance, 2, 100, "t", ""}));
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
  Result<std::string> r = coordinator_.CreateRun(R"({"target": "http://h", "users": -1})");
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
  for (const auto& s : run["timeline"].GetArray()) timeline_total += s["requests"].GetInt64();
  EXPECT_EQ(timeline_total, 47);
  EXPECT_EQ(run["workers"].Size(), 3u);
  int64_t assigned = 0;
  for (const auto& w : run["workers"].GetArray()) assigned += w["users"].GetInt64();
  EXPECT_EQ(assigned, 5);
}

TEST_F(CoordinatorTest, StopReachesEveryWorkerAndEndsAsStopped) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string id = Json(*coordinator_.CreateRun(kPlan))["id"].GetString();
  EXPECT_FALSE(coordinator_.CreateRun(kPlan).ok()) << "a second concurrent run must be refused";
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
  for (const auto& w : workers["workers"].GetArray()) lost += std::string(w["state"].GetString()) == "lost";
  EXPECT_EQ(lost, 2);  // pipe 1 also fell silent after its final stats
  rapidjson::Document run = Json(*coordinator_.GetRun(id, false));
  EXPECT_STREQ(run["state"].GetString(), "finished");
  EXPECT_NE(std::string(run["message"].GetString()).find("lost"), std::string::npos);
}

TEST_F(CoordinatorTest, ExpectWorkersWaitsThenStarts) {
  Register(1, "a", 0);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 4, "expect_workers": 2})"))["id"].GetString();
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
      "users": 4, "expect_workers": 3, "expect_timeout": "5s"})"))["id"].GetString();
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
          "duration": "60s"})"))["id"].GetString();
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

TEST_F(CoordinatorTest, JoiningWorkerTakesAFairShareFromEveryone) {
  Register(1, "a", 0);
  Register(2, "a", 1);
  std::string id = Json(*coordinator_.CreateRun(
      R"({"target": "http://127.0.0.1:9/", "users": 300, "spawn_rate": 100,
          "duration": "60s"})"))["id"].GetString();
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

}  // namespace
}  // namespace loadd
