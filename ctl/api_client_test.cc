#include "ctl/api_client.h"

#include <gtest/gtest.h>

#include "ctl/api_calls.h"
#include "ctl/exit_code.h"
#include "ctl/test_fakes.h"

namespace loadd {
namespace {

TEST(StatusFromErrorReplyTest, MapsTheErrorObjectOrTheHttpStatus) {
  struct Case {
    const char* label;
    int http_status;
    const char* body;
    StatusCode code;
    const char* printed;  // FormatError of the result
    int exit_code;
  };
  const Case kCases[] = {
      {"400 with path", 400,
       R"({"error":{"code":"invalid_argument","path":"$.users",)"
       R"("message":"must be between 1 and 10000000, got -5"}})",
       StatusCode::kInvalidArgument,
       "loadctl: $.users: must be between 1 and 10000000, got -5", 3},
      {"403 operator limit names the field", 403,
       R"({"error":{"code":"permission_denied","path":"$.users",)"
       R"("message":"51 users is above this coordinator's limit of 50 users per run"}})",
       StatusCode::kPermissionDenied,
       "loadctl: $.users: 51 users is above this coordinator's limit of 50 users per run",
       4},
      {"409 conflict", 409,
       R"({"error":{"code":"failed_precondition","message":"no live workers"}})",
       StatusCode::kFailedPrecondition, "loadctl: POST http://c/v1/runs: no live workers",
       4},
      {"409 of --no-queue keeps its path: exit 5", 409,
       R"({"error":{"code":"failed_precondition","message":"not queued: busy","path":"$.queue"}})",
       StatusCode::kFailedPrecondition,
       "loadctl: $.queue: POST http://c/v1/runs: not queued: busy", 5},
      {"429 of a full queue keeps its path: exit 5", 429,
       R"({"error":{"code":"resource_exhausted","message":"full","path":"--max-queued"}})",
       StatusCode::kResourceExhausted,
       "loadctl: --max-queued: POST http://c/v1/runs: full", 5},
      {"404 names the request, not the error's path", 404,
       R"({"error":{"code":"not_found","message":"no run r9","path":"id"}})",
       StatusCode::kNotFound, "loadctl: POST http://c/v1/runs: no run r9", 3},
      {"404 not found", 404, R"({"error":{"code":"not_found","message":"no run r9"}})",
       StatusCode::kNotFound, "loadctl: POST http://c/v1/runs: no run r9", 3},
      {"502 from a proxy", 502, "<html>Bad Gateway</html>", StatusCode::kInternal,
       "loadctl: POST http://c/v1/runs: unexpected answer HTTP 502: <html>Bad "
       "Gateway</html>",
       4},
      {"503 without a body", 503, "", StatusCode::kUnavailable,
       "loadctl: POST http://c/v1/runs: unexpected answer HTTP 503", 4},
      {"unknown code name", 429,
       R"({"error":{"code":"slow_down","message":"too many runs"}})",
       StatusCode::kResourceExhausted, "loadctl: POST http://c/v1/runs: too many runs",
       4},
  };
  for (const Case& c : kCases) {
    Status status =
        StatusFromErrorReply("POST http://c/v1/runs", HttpReply{c.http_status, c.body});
    EXPECT_EQ(status.code(), c.code) << c.label;
    EXPECT_EQ(FormatError(status), c.printed) << c.label;
    EXPECT_EQ(ExitCodeFor(status), c.exit_code) << c.label;
  }
}

TEST(StatusFromErrorReplyTest, A401SaysWhatLoadctlSentAndExits4) {
  HttpReply reply{
      401, R"({"error":{"code":"unauthenticated","message":"wrong bearer token"}})"};
  Status status = StatusFromErrorReply("GET http://c/v1/runs", reply,
                                       "loadctl sent the token from LOADD_TOKEN");
  EXPECT_EQ(status.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(
      FormatError(status),
      "loadctl: GET http://c/v1/runs: wrong bearer token; loadctl sent the token from "
      "LOADD_TOKEN");
  EXPECT_EQ(ExitCodeFor(status), 4);
  // A 401 without the coordinator's error object still says what to do.
  status = StatusFromErrorReply("GET http://c/v1/runs", HttpReply{401, ""}, "hint");
  EXPECT_EQ(status.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "GET http://c/v1/runs: unexpected answer HTTP 401; hint");
}

TEST(GetJsonTest, AcceptsOnlyA2xxJsonObject) {
  FakeApiClient api;
  api.On("GET /ok", 200, R"({"a":1})");
  api.On("GET /array", 200, "[1]");
  api.On("GET /garbage", 200, "not json");
  api.OnNoAnswer("GET /down");
  JsonReply reply;
  ASSERT_TRUE(GetJson(&api, "/ok", &reply).ok());
  EXPECT_EQ(reply.body, R"({"a":1})");
  EXPECT_EQ(reply.doc["a"].GetInt(), 1);
  EXPECT_EQ(GetJson(&api, "/array", &reply).code(), StatusCode::kInternal);
  Status garbage = GetJson(&api, "/garbage", &reply);
  EXPECT_EQ(garbage.code(), StatusCode::kInternal);
  EXPECT_NE(garbage.message().find("GET http://fake:8089/garbage"), std::string::npos);
  EXPECT_EQ(GetJson(&api, "/down", &reply).code(), StatusCode::kUnavailable);
}

TEST(CheckRunIdTest, AcceptsOnlyPlainIds) {
  EXPECT_TRUE(CheckRunId("r1700000000-3f2a").ok());
  EXPECT_TRUE(CheckRunId("run_1.a").ok());
  for (const char* bad : {"", "r1/stop", "r1?timeline=0", "../x", "r 1", "r%2f"}) {
    Status status = CheckRunId(bad);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(status.path(), "RUN") << bad;
  }
  EXPECT_FALSE(CheckRunId(std::string(129, 'r')).ok());
}

TEST(CreateRunTest, RequiresARunIdInTheAnswer) {
  FakeApiClient api;
  api.On("POST /v1/runs", 201, R"({"state":"running"})");
  JsonReply reply;
  std::string id;
  EXPECT_EQ(CreateRun(&api, "{}", &reply, &id).code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace loadd
