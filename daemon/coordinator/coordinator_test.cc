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
  for (const auto& [pipe, a] : assigns) stripe[pipe] = a.stripe_index;
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

TEST_F(CoordinatorTest, GarbageFromAPeerChangesNothing) {
  Register(1, "a", 0);
  coordinator_.OnMessage(1, "{{{{");
  coordinator_.OnMessage(1, R"({"type":"stats","run_id":"nope","endpoints":[]})");
  coordinator_.OnMessage(99, EncodeMessage(HeartbeatMsg{}));  // unknown pipe
  EXPECT_EQ(coordinator_.LiveWorkers(), 1u);
}

}  // namespace
}  // namespace loadd
