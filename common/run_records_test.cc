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

// Writes with on_hook writing `"<name>":"hook<id>"` for every hook row.
template <class T>
std::string WriteHooks(const T& record, std::span<const JsonField<T>> fields,
                       JsonDoc doc) {
  return ToJson([&](JsonWriter* w) {
    w->StartObject();
    WriteJsonFields(w, record, fields, doc, [](JsonWriter* w, int id, const char* name) {
      WriteField(w, name, "hook" + std::to_string(id));
    });
    w->EndObject();
  });
}

TEST(RunRecordsTest, CheckHasTheSameShapeInBothDocuments) {
  CheckRecord c{"status is 200", 72, 8};
  const std::string kJson = R"({"name":"status is 200","passed":72,"failed":8})";
  EXPECT_EQ(Write(c, CheckRecordFields(), JsonDoc::kApi), kJson);
  EXPECT_EQ(Write(c, CheckRecordFields(), JsonDoc::kStore), kJson);
  CheckRecord back = ReadBack(kJson, CheckRecordFields());
  EXPECT_EQ(back.name, c.name);
  EXPECT_EQ(back.passed, 72);
  EXPECT_EQ(back.failed, 8);
}

TEST(RunRecordsTest, ThresholdCarriesKeyInRestAndMeasuredInTheStore) {
  ThresholdRecord t{"http.p95", "<5ms", true, 9015, false, "actual 9.02ms misses <5ms"};
  EXPECT_EQ(WriteHooks(t, ThresholdRecordFields(), JsonDoc::kApi),
            R"({"key":"http.p95","condition":"<5ms","actual":"hook0","passed":false,)"
            R"("message":"actual 9.02ms misses <5ms"})");
  EXPECT_EQ(Write(t, ThresholdRecordFields(), JsonDoc::kStore),
            R"({"measured":true,"actual":"0x1.19b8p+13","passed":false,)"
            R"("message":"actual 9.02ms misses <5ms"})");
}

// A reader's hook is called with the row's name: loadctl reads `actual`
// (null: not measured) where the description says it is.
TEST(RunRecordsTest, ReaderHooksAreCalledAtTheirRows) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(R"({"key":"http.rps","actual":null,"passed":true})", &doc).ok());
  ThresholdRecord back;
  std::vector<std::string> hooks;
  LenientJsonReader r;
  ReadJsonFields(&r, doc, &back, ThresholdRecordFields(), JsonDoc::kApi,
                 [&](int id, const char* name) {
                   hooks.push_back(std::to_string(id) + ":" + name);
                 });
  EXPECT_EQ(hooks, std::vector<std::string>{"0:actual"});
  EXPECT_EQ(back.key, "http.rps");
  EXPECT_TRUE(back.passed);
}

TEST(RunRecordsTest, TotalsKeepRestsOrder) {
  RunTotals t{380, 4, 76.04, 20};
  std::string json = ToJson([&](JsonWriter* w) {
    w->StartObject();
    ErrorCounts errors{};
    errors[static_cast<int>(ErrorKind::kTimeout)] = 4;
    WriteJsonFields(w, t, RunTotalsFields(), JsonDoc::kApi,
                    [&](JsonWriter* w, int, const char* name) {
                      WriteErrorCounts(w, name, errors, /*zeros=*/true);
                    });
    w->EndObject();
  });
  EXPECT_EQ(json,
            R"({"requests":380,"failures":4,"rps":76.0,"dropped":20,"errors":)"
            R"({"connect":0,"timeout":4,"status":0,"io":0,"parse":0,"interrupted":0}})");
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(json, &doc).ok());
  ErrorCountList list = ReadErrorCountList(doc, "errors");
  ASSERT_EQ(list.size(), 6u);
  EXPECT_EQ(list[1], (std::pair<std::string, int64_t>{"timeout", 4}));
}

TEST(RunRecordsTest, EndpointPlacesItsHistogramsPerDocument) {
  EndpointRecord e{"GET /a", 10, 1, 3.04, 1000};
  EXPECT_EQ(WriteHooks(e, EndpointRecordFields(), JsonDoc::kApi),
            R"({"name":"GET /a","requests":10,"failures":1,"rps":3.0,"bytes_in":1000,)"
            R"("latency":"hook0","errors":"hook1","service":"hook2"})");
  EXPECT_EQ(WriteHooks(e, EndpointRecordFields(), JsonDoc::kStore),
            R"({"name":"GET /a","requests":10,"failures":1,"bytes_in":1000,)"
            R"("errors":"hook1","latency":"hook0","service":"hook2"})");
}

TEST(RunRecordsTest, LatencySummaryIsRestsPercentileBlock) {
  HdrHistogram h = HdrHistogram::ForLatencyMicros();
  h.RecordN(1000, 3);
  h.Record(5000);
  std::string json =
      WriteHooks(LatencySummaryOf(h), LatencySummaryFields(), JsonDoc::kApi);
  EXPECT_EQ(json,
            R"({"min_us":1000,"mean_us":2000.5,"stddev_us":"hook0","p50_us":1000,)"
            R"("p90_us":5003,"p95_us":5003,"p99_us":5003,"p999_us":5003,"max_us":5003})");
  LatencySummary back = ReadBack(json, LatencySummaryFields());
  EXPECT_EQ(back.p90_us, 5003);
  EXPECT_EQ(back.mean_us, 2000.5);  // the histogram's equivalent values
}

TEST(RunRecordsTest, FleetWorkerRowKeepsRestsOrder) {
  FleetWorkerRow w{"a/1", "a", "busy", 1, 5, 12.34, 2011, {}};
  w.instance = 1;
  w.cores = 2;
  w.version = "t";
  w.pid = 100;
  w.run_id = "r1-1";
  w.connected_s = 2.0;
  std::string json = WriteHooks(w, FleetWorkerFields(), JsonDoc::kApi);
  EXPECT_EQ(json,
            R"({"id":"a/1","host":"a","instance":1,"cpu":1,"cores":2,"version":"t",)"
            R"("pid":100,"labels":"hook0","state":"busy","run_id":"r1-1","users":5,)"
            R"("cpu_percent":12.3,"last_seen_ms":2011,"connected_s":2.0})");
  FleetWorkerRow back = ReadBack(json, FleetWorkerFields());
  EXPECT_EQ(back.state, "busy");
  EXPECT_EQ(back.last_seen_ms, 2011);
  EXPECT_EQ(back.run_id, "r1-1");
}

}  // namespace
}  // namespace loadd
