// Each shared run record round-trips through its one description: what the
// REST writer writes, loadctl's reader reads back field for field.
#include "common/run_records.h"

#include <gtest/gtest.h>

#include "common/json_record.h"

namespace loadd {
namespace {

template <class T>
std::string Write(const T& record, std::span<const JsonField<T>> fields, JsonDoc doc) {
  return ToJson([&](JsonWriter* w) {
    w->StartObject();
    WriteJsonFields(w, record, fields, doc);
    w->EndObject();
  });
}

template <class T>
T ReadBack(const std::string& json, std::span<const JsonField<T>> fields) {
  rapidjson::Document doc;
  EXPECT_TRUE(ParseJson(json, &doc).ok()) << json;
  T out;
  LenientJsonReader r;
  ReadJsonFields(&r, doc, &out, fields, JsonDoc::kApi);
  return out;
}

TEST(RunRecordsTest, SecondRoundTripsThroughTheApiWithRestsBytes) {
  RunSecond s{3, 40, 1200, 7, 1200, 900, 2100, 3050, 9000, 2, 4};
  std::string json = Write(s, RunSecondFields(), JsonDoc::kApi);
  // The bytes REST wrote before the description existed (docs/openapi.yaml).
  EXPECT_EQ(json,
            R"({"t":3,"users":40,"requests":1200,"failures":7,"rps":1200,"p50_us":900,)"
            R"("p95_us":2100,"p99_us":3050,"max_us":9000,"dropped":2,"workers":4})");
  RunSecond back = ReadBack(json, RunSecondFields());
  EXPECT_EQ(Write(back, RunSecondFields(), JsonDoc::kApi), json);
}

TEST(RunRecordsTest, SecondInTheStoreHasNoRps) {
  RunSecond s{3, 40, 1200, 7, 1200, 900, 2100, 3050, 9000, 2, 4};
  std::string json = Write(s, RunSecondFields(), JsonDoc::kStore);
  EXPECT_EQ(json.find("rps"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("workers":4)"), std::string::npos) << json;
}

TEST(RunRecordsTest, SummaryRoundTripsThroughTheApi) {
  RunSummary s;
  s.id = "r1-ab";
  s.name = "smoke";
  s.state = "finished";
  s.created_at = "2026-12-07T13:00:00Z";
  s.started_by = "ci-web";
  s.users = 50;
  s.duration_s = 12.34;  // REST carries 0.1
  s.requests = 999;
  s.warnings = 1;
  s.failures = 3;
  s.thresholds_passed = false;
  std::string json = Write(s, RunSummaryFields(), JsonDoc::kApi);
  EXPECT_EQ(json,
            R"({"id":"r1-ab","name":"smoke","state":"finished",)"
            R"("created_at":"2026-12-07T13:00:00Z","started_by":"ci-web",)"
            R"("users":50,"duration_s":12.3,)"
            R"("requests":999,"warnings":1,"failures":3,"thresholds_passed":false})");
  RunSummary back = ReadBack(json, RunSummaryFields());
  EXPECT_EQ(back.id, "r1-ab");
  EXPECT_EQ(back.duration_s, 12.3);
  EXPECT_EQ(back.thresholds_passed, std::optional<bool>(false));
  EXPECT_EQ(Write(back, RunSummaryFields(), JsonDoc::kApi), json);
}

TEST(RunRecordsTest, SummaryUndecidedIsNull) {
  RunSummary s;
  std::string json = Write(s, RunSummaryFields(), JsonDoc::kApi);
  EXPECT_NE(json.find(R"("thresholds_passed":null)"), std::string::npos) << json;
  EXPECT_EQ(ReadBack(json, RunSummaryFields()).thresholds_passed, std::nullopt);
}

TEST(RunRecordsTest, EndIsNullInTheApiAndEmptyInTheStoreWhileRunning) {
  RunEndRecord running;
  EXPECT_EQ(Write(running, RunEndFields(), JsonDoc::kApi),
            R"({"end_reason":null,"aborted_by":null})");
  EXPECT_EQ(Write(running, RunEndFields(), JsonDoc::kStore), R"({"end_reason":""})");
  RunEndRecord ended{"aborted_by_threshold", "http.p95"};
  std::string json = Write(ended, RunEndFields(), JsonDoc::kApi);
  EXPECT_EQ(json, R"({"end_reason":"aborted_by_threshold","aborted_by":"http.p95"})");
  RunEndRecord back = ReadBack(json, RunEndFields());
  EXPECT_EQ(back.end_reason, ended.end_reason);
  EXPECT_EQ(back.aborted_by, ended.aborted_by);
}

TEST(RunRecordsTest, LenientReaderReadsWrongTypesAsZero) {
  RunSecond back =
      ReadBack<RunSecond>(R"({"t":"x","users":2.9,"rps":1e30})", RunSecondFields());
  EXPECT_EQ(back.t, 0);
  EXPECT_EQ(back.users, 2);  // truncated
  EXPECT_EQ(back.rps, 0);    // past +-9e18
}

}  // namespace
}  // namespace loadd
