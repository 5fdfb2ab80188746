// Run::Snapshot and Run::Restore: a restored run renders byte for byte what
// the saved one did, an active run comes back as interrupted with its open
// seconds, and damaged documents are refused without a crash.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <functional>

#include "common/clock.h"
#include "daemon/coordinator/run.h"

namespace loadd {
namespace {

constexpr int64_t kT0 = 1'000'000'000'000;  // the saving process's clock at creation
constexpr int64_t kEpochNs = 1'700'000'000'123'456'789;

std::string Render(const std::function<void(JsonWriter*)>& fn) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  fn(&w);
  return std::string(buf.GetString(), buf.GetSize());
}

EndpointStats Endpoint(const std::string& name, int64_t requests, int64_t failures,
                       int64_t latency_us) {
  EndpointStats e;
  e.name = name;
  e.requests = requests;
  e.failures = failures;
  e.errors[static_cast<int>(ErrorKind::kTimeout)] = failures;
  e.bytes_in = requests * 100;
  for (int64_t i = 0; i < requests; ++i) e.latency_us.Record(latency_us + i * 7);
  e.service_us.RecordN(latency_us / 2, requests);
  return e;
}

StatsMsg Stats(std::vector<EndpointStats> endpoints, double cpu = 40,
               bool final = false) {
  StatsMsg s;
  s.endpoints = std::move(endpoints);
  s.checks = {{"status is 200", 9, 1}, {"body has id", 3, 0}};
  s.cpu_percent = cpu;
  s.users = 2;
  s.dropped = 1;
  s.final = final;
  return s;
}

class RunPersistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Plan> plan = ParsePlan(R"({"target": "http://127.0.0.1:9/x", "users": 4,
        "spawn_rate": 0.3, "duration": "10s",
        "thresholds": {"http.p95": "<5ms", "http.error_rate": "<1%", "http.rps": ">0.1",
                       "checks.pass_rate": ">=75%"}})");
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    run_ = std::make_unique<loadd::Run>("r1700000000-1", *plan, kT0, kT0 + 300'000'000,
                                        kEpochNs);
    for (const char* id : {"a/0", "a/1"}) {
      RunWorker w;
      w.worker_id = id;
      w.host = "a";
      w.users_assigned = 2;
      run_->mutable_workers_for_test().push_back(w);
    }
    run_->SetState(RunState::kRunning, kT0 + 300'000'000);
  }
  // Stats from both workers, at run time `run_ms`.
  void Both(int64_t run_ms, bool final = false) {
    int64_t now = kT0 + 300'000'000 + run_ms * kNsPerMs;
    run_->AddStats(
        &run_->mutable_workers_for_test()[0],
        Stats({Endpoint("GET /a", 40, 1, 1000), Endpoint("POST /b, c", 5, 0, 9000)}, 95.5,
              final),
        now);
    run_->AddStats(&run_->mutable_workers_for_test()[1],
                   Stats({Endpoint("GET /a", 30, 0, 2000)}, 12.25, final), now);
    run_->NoteCpu("a/0", 97.125, now);
    run_->CloseSeconds(now, false);
  }
  int64_t At(int64_t run_ms) const { return kT0 + 300'000'000 + run_ms * kNsPerMs; }
  std::string Full(const loadd::Run& run, bool timeline, int64_t now) const {
    return Render([&](JsonWriter* w) { run.WriteFull(w, timeline, now); });
  }
  std::string Summary(const loadd::Run& run) const {
    return Render([&](JsonWriter* w) { run.WriteSummary(w); });
  }

  std::unique_ptr<loadd::Run> run_;
};

TEST_F(RunPersistTest, EndedRunRendersTheSameAfterRestore) {
  Both(1000);
  Both(2000);
  Both(3000, /*final=*/true);
  run_->SetState(RunState::kFinished, At(3100));
  ASSERT_FALSE(run_->Hlog().empty());
  RunSnapshot snap = run_->Snapshot(0, At(3200));
  EXPECT_EQ(snap.summary, Summary(*run_));
  EXPECT_EQ(snap.seconds.size(), run_->closed_seconds());

  // Another process, another monotonic clock.
  constexpr int64_t kOtherNow = 42'000'000'000;
  Result<std::unique_ptr<loadd::Run>> restored =
      loadd::Run::Restore(snap.state, snap.seconds, kOtherNow);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const loadd::Run& r = **restored;
  EXPECT_EQ(Full(r, true, kOtherNow + 5 * kNsPerSec), Full(*run_, true, At(9000)));
  EXPECT_EQ(Full(r, false, kOtherNow), Full(*run_, false, At(3200)));
  EXPECT_EQ(r.Hlog(), run_->Hlog());
  EXPECT_EQ(Summary(r), Summary(*run_));
  EXPECT_TRUE(r.ThresholdsPassed() == run_->ThresholdsPassed());
  // Saved again at the same moment, it is the same document.
  EXPECT_EQ(r.Snapshot(0, kOtherNow).state, snap.state);

  Result<StoredRunHeader> header = loadd::Run::ReadHeader(snap.state);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->id, "r1700000000-1");
  EXPECT_EQ(header->state, RunState::kFinished);
  EXPECT_EQ(header->created_epoch_ns, kEpochNs);
  EXPECT_EQ(header->summary, snap.summary);
}

// end_reason is stored as it was set, not derived again: a run that failed
// for want of workers stays no_workers although it has workers.
// Live scaling: the events come back, and with them the profile the workers
// followed (replayed from the plan's).
TEST_F(RunPersistTest, ScaleEventsAndTheirProfileSurviveRestore) {
  RunEvent up;
  up.by = "ci";
  up.requested_ms = 2000;
  up.at_ms = 2300;
  up.unit = "users";
  up.from = run_->profile().ValueAt(2'300'000'000);
  up.to = 40;
  up.ramp_rate = 10;
  run_->AddScale(up);
  Both(1000);
  RunSnapshot snap = run_->Snapshot(0, At(3200));
  Result<std::unique_ptr<loadd::Run>> restored =
      loadd::Run::Restore(snap.state, snap.seconds, 42'000'000'000);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const loadd::Run& r = **restored;
  ASSERT_EQ(r.events().size(), 1u);
  EXPECT_EQ(r.events()[0].by, "ci");
  EXPECT_EQ(r.events()[0].at_ms, 2300);
  EXPECT_EQ(r.UserBound(), run_->UserBound());
  for (int64_t t = 0; t < 10'000'000'000; t += 250'000'000) {
    EXPECT_EQ(r.profile().ValueAt(t), run_->profile().ValueAt(t)) << t;
  }
  EXPECT_EQ(run_->profile().ValueAt(9'000'000'000), 40);  // the plan alone: 2.7
  EXPECT_EQ(r.UserBound(), 40);
}

TEST_F(RunPersistTest, EndReasonIsStoredAndOldRunsDeriveIt) {
  Both(1000);
  run_->End(EndReason::kNoWorkers, At(1100), "why");
  RunSnapshot snap = run_->Snapshot(0, At(1200));
  Result<std::unique_ptr<loadd::Run>> restored =
      loadd::Run::Restore(snap.state, snap.seconds, kT0);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->state(), RunState::kFailed);
  EXPECT_EQ((*restored)->end_reason(), EndReason::kNoWorkers);

  // Stored before the field existed: failed with workers is all_workers_lost.
  std::string old_state = snap.state;
  const std::string kField = "\"end_reason\":\"no_workers\",";
  size_t at = old_state.find(kField);
  ASSERT_NE(at, std::string::npos) << old_state;
  old_state.erase(at, kField.size());
  restored = loadd::Run::Restore(old_state, snap.seconds, kT0);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->end_reason(), EndReason::kAllWorkersLost);
}

TEST_F(RunPersistTest, SnapshotsCarryOnlyTheNewSeconds) {
  Both(1000);
  Both(2000);
  Both(3000);
  RunSnapshot first = run_->Snapshot(0, At(3000));
  size_t stored = first.seconds.size();
  ASSERT_GE(stored, 1u);
  Both(4000);
  Both(5000);
  RunSnapshot second = run_->Snapshot(stored, At(5000));
  ASSERT_EQ(stored + second.seconds.size(), run_->closed_seconds());
  std::vector<std::string> all = first.seconds;
  all.insert(all.end(), second.seconds.begin(), second.seconds.end());
  Result<std::unique_ptr<loadd::Run>> restored =
      loadd::Run::Restore(second.state, all, At(5000));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->Snapshot(0, At(5000)).state, second.state);
  // The state must match the seconds it is given.
  EXPECT_FALSE(loadd::Run::Restore(second.state, first.seconds, At(5000)).ok());
}

TEST_F(RunPersistTest, ActiveRunIsInterruptedWithItsOpenSeconds) {
  Both(1000);
  Both(2000);
  Both(3000);  // seconds 1 and 2 still open at 3.0 s
  RunSnapshot snap = run_->Snapshot(0, At(3000));
  int64_t total = run_->total_requests();
  Result<std::unique_ptr<loadd::Run>> restored =
      loadd::Run::Restore(snap.state, snap.seconds, kT0);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  loadd::Run& r = **restored;
  EXPECT_EQ(r.state(), RunState::kRunning);
  r.Interrupt(kT0);
  EXPECT_EQ(r.state(), RunState::kInterrupted);
  EXPECT_TRUE(IsFinal(r.state()));
  EXPECT_NE(r.message().find("up to 3.0s of run time"), std::string::npos) << r.message();

  rapidjson::Document doc;
  doc.Parse(Full(r, true, kT0 + kNsPerSec).c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["state"].GetString(), "interrupted");
  EXPECT_DOUBLE_EQ(doc["elapsed_s"].GetDouble(), 3.0);
  EXPECT_EQ(doc["totals"]["requests"].GetInt64(), total);
  EXPECT_EQ(doc["users"].GetInt64(), 0);
  const rapidjson::Value& timeline = doc["timeline"];
  ASSERT_EQ(timeline.Size(), 3u);  // every second to the snapshot, open ones closed
  int64_t sum = 0;
  for (rapidjson::SizeType i = 0; i < timeline.Size(); ++i) {
    EXPECT_EQ(timeline[i]["t"].GetInt64(), static_cast<int64_t>(i));
    sum += timeline[i]["requests"].GetInt64();
  }
  EXPECT_EQ(sum, total);
  EXPECT_STREQ(doc["workers"][0]["state"].GetString(), "interrupted");
  EXPECT_FALSE(doc["thresholds_passed"].IsNull()) << "decided once ended";
}

TEST_F(RunPersistTest, DamagedDocumentsAreRefusedNotCrashedOn) {
  Both(1000);
  Both(2000);
  Both(3000);
  RunSnapshot snap = run_->Snapshot(0, At(3000));
  ASSERT_FALSE(snap.seconds.empty());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = snap.state;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  struct Case {
    const char* what;
    std::string state;
  };
  const Case cases[] = {
      {"not JSON", "{\"format\": 1,"},
      {"not an object", "[1, 2]"},
      {"another format", replaced("\"format\":1", "\"format\":2")},
      {"missing field", replaced("\"dropped\":", "\"dripped\":")},
      {"wrong type",
       replaced("\"saved_offset_ns\":", "\"saved_offset_ns\":\"x\",\"y\":")},
      {"unknown state", replaced("\"state\":\"running\"", "\"state\":\"dancing\"")},
      {"bad histogram", replaced("\"latency\":\"", "\"latency\":\"!!")},
      {"bad hex float", replaced("\"cpu_percent\":\"", "\"cpu_percent\":\"z")},
      {"bad plan", replaced("\"users\":4", "\"users\":-4")},
      {"endpoint index out of range", replaced("\"index\":0", "\"index\":99")},
      {"unknown end reason", replaced("\"end_reason\":\"\"", "\"end_reason\":\"later\"")},
  };
  for (const Case& c : cases) {
    Result<std::unique_ptr<loadd::Run>> r =
        loadd::Run::Restore(c.state, snap.seconds, kT0);
    EXPECT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.what;
  }
  std::vector<std::string> bad_second = snap.seconds;
  bad_second[0] = "{\"i\": 5}";
  EXPECT_FALSE(loadd::Run::Restore(snap.state, bad_second, kT0).ok());
  bad_second[0] = "garbage";
  EXPECT_FALSE(loadd::Run::Restore(snap.state, bad_second, kT0).ok());
  EXPECT_TRUE(loadd::Run::Restore(snap.state, snap.seconds, kT0).ok());
}

}  // namespace
}  // namespace loadd
