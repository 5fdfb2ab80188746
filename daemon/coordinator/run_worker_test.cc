// RunWorker round-trips through its one description (run_worker.h) in the
// store, and the REST rows keep their places around the run's hooks.
#include "daemon/coordinator/run_worker.h"

#include <gtest/gtest.h>

#include "daemon/coordinator/stored_fields.h"

namespace loadd {
namespace {

RunWorker Sample() {
  RunWorker w;
  w.worker_id = "h1/2";
  w.host = "h1";
  w.stripe = 3;
  w.users_assigned = 25;
  w.users_now = 24;
  w.requests = 1234;
  w.cpu_percent = 91.37;
  w.final = true;
  w.lost = true;
  w.lost_at_ms = 4500;
  w.data_rows = 17;
  return w;
}

std::string Write(const RunWorker& w, JsonDoc doc) {
  return ToJson([&](JsonWriter* out) {
    out->StartObject();
    WriteJsonFields(out, w, RunWorkerFields(), doc,
                    [](JsonWriter* out, int hook, const char* name) {
                      WriteField(out, name, static_cast<int64_t>(hook));
                    });
    out->EndObject();
  });
}

Result<RunWorker> Read(const std::string& json) {
  rapidjson::Document doc;
  LOADD_RETURN_IF_ERROR(ParseJson(json, &doc));
  FieldReader r;
  RunWorker w;
  ReadJsonFields(&r, doc, &w, RunWorkerFields(), JsonDoc::kStore);
  if (!r.ok()) return r.status();
  return w;
}

TEST(RunWorkerTest, RoundTripsThroughTheStore) {
  RunWorker w = Sample();
  Result<RunWorker> back = Read(Write(w, JsonDoc::kStore));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->worker_id, w.worker_id);
  EXPECT_EQ(back->host, w.host);
  EXPECT_EQ(back->stripe, w.stripe);
  EXPECT_EQ(back->users_assigned, w.users_assigned);
  EXPECT_EQ(back->users_now, w.users_now);
  EXPECT_EQ(back->requests, w.requests);
  EXPECT_EQ(back->cpu_percent, w.cpu_percent);  // bit for bit (hex float)
  EXPECT_EQ(back->final, w.final);
  EXPECT_EQ(back->lost, w.lost);
  EXPECT_EQ(back->lost_at_ms, w.lost_at_ms);
  EXPECT_EQ(back->data_rows, w.data_rows);
  EXPECT_EQ(Write(*back, JsonDoc::kStore), Write(w, JsonDoc::kStore));
}

TEST(RunWorkerTest, StoreBytesAreThePreviousVersions) {
  EXPECT_EQ(Write(Sample(), JsonDoc::kStore),
            R"({"id":"h1/2","host":"h1","stripe":3,"users_assigned":25,"users_now":24,)"
            R"("requests":1234,"cpu_percent":"0x1.6d7ae147ae148p+6","final":true,)"
            R"("lost":true,"lost_at_ms":4500,"data_rows":17})");
}

TEST(RunWorkerTest, ReadsAWorkerStoredBeforeDataRows) {
  Result<RunWorker> back = Read(
      R"({"id":"a","host":"h","stripe":0,"users_assigned":1,"users_now":0,)"
      R"("requests":5,"cpu_percent":"0x0p+0","final":false,"lost":false,"lost_at_ms":0})");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->data_rows, -1);
  EXPECT_EQ(back->requests, 5);
}

TEST(RunWorkerTest, AMissingStoredFieldIsNamed) {
  Result<RunWorker> back = Read(R"({"id":"a","host":"h"})");
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("\"stripe\""), std::string::npos)
      << back.status().ToString();
}

TEST(RunWorkerTest, RestRowsKeepTheirOrderAroundHooks) {
  EXPECT_EQ(Write(Sample(), JsonDoc::kApi),
            R"({"id":"h1/2","host":"h1","stripe":3,"users":25,"users_now":24,)"
            R"("state":0,"lost_at_s":1,"final_stats":2,"data_rows":3,)"
            R"("requests":1234,"cpu_percent":91.4})");
}

}  // namespace
}  // namespace loadd
