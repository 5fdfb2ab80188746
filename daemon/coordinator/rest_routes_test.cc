#include "daemon/coordinator/rest_routes.h"

#include <gtest/gtest.h>

#include <string>

#include "common/json.h"
#include "daemon/coordinator/rest_api.h"
#include "daemon/coordinator/rest_reader.h"

namespace loadd {
namespace {

namespace Http = Pistache::Http;

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";

std::string IdOf(const RouteMatch& match) {
  return match.rule == nullptr
             ? "none(" + match.methods + ")"
             : std::to_string(static_cast<int>(match.rule->id)) + ":" + match.param;
}

TEST(MatchRoute, MatchesAsPistachesRouterDid) {
  struct Case {
    Http::Method method;
    const char* resource;
    const char* want;
  };
  auto id = [](RouteId route, const char* param = "") {
    return std::to_string(static_cast<int>(route)) + ":" + param;
  };
  const std::string health = id(RouteId::kHealth);
  const Case cases[] = {
      {Http::Method::Get, "/healthz", health.c_str()},
      {Http::Method::Get, "//healthz/", health.c_str()},
      {Http::Method::Post, "/healthz", "none(GET)"},
      {Http::Method::Get, "/nope", "none()"},
      {Http::Method::Get, "/healthz/x", "none()"},
      {Http::Method::Put, "/v1/runs", "none(GET, POST)"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IdOf(MatchRoute(c.method, c.resource)), c.want) << c.resource;
  }
  EXPECT_EQ(IdOf(MatchRoute(Http::Method::Get, "/")), id(RouteId::kDashboard));
  EXPECT_EQ(IdOf(MatchRoute(Http::Method::Get, "/ui/app.js")),
            id(RouteId::kDashboardFile, "app.js"));
  EXPECT_EQ(IdOf(MatchRoute(Http::Method::Get, "/v1/runs/r1")), id(RouteId::kRun, "r1"));
  EXPECT_EQ(IdOf(MatchRoute(Http::Method::Get, "/v1/runs/r1/hlog")),
            id(RouteId::kRunHlog, "r1"));
  EXPECT_EQ(IdOf(MatchRoute(Http::Method::Post, "/v1/runs/r%2F1/stop")),
            id(RouteId::kStopRun, "r%2F1"));
  EXPECT_EQ(IdOf(MatchRoute(Http::Method::Post, "/v1/runs")), id(RouteId::kCreateRun));
}

// Each row answers its own path and no other row does: the table has no
// overlaps for its order to decide.
TEST(MatchRoute, EveryRowIsReachable) {
  for (const RouteRule& rule : kRoutes) {
    std::string path = rule.path;
    for (size_t at = path.find(':'); at != std::string::npos; at = path.find(':')) {
      size_t end = path.find('/', at);
      path.replace(at, end == std::string::npos ? std::string::npos : end - at, "x");
    }
    RouteMatch match = MatchRoute(rule.method, path);
    EXPECT_EQ(match.rule, &rule) << path;
  }
}

// The table's verdicts, through the reader that asks for them.
TEST(AdmitRequest, OpenRoutesTokensAndBodies) {
  BearerAuth auth;
  auth.SetToken(kToken);
  RunLimits limits;
  const std::string bearer = std::string("Authorization: Bearer ") + kToken + "\r\n";
  struct Case {
    std::string head;
    size_t content_length;
    int code;  // 0: admitted
    const char* says;
  };
  auto head = [](const std::string& line, const std::string& extra = "") {
    return line + " HTTP/1.1\r\nHost: x\r\n" + extra;
  };
  const Case cases[] = {
      {head("GET /healthz"), 0, 0, ""},
      {head("GET /"), 0, 0, ""},
      {head("GET /ui/app.js"), 0, 0, ""},
      {head("GET /ui/no-such-file.js"), 0, 401, "needs a bearer token"},
      {head("GET /ui/no-such-file.js", bearer), 0, 0, ""},  // the handler's 404
      // A body is never a stranger's, even on an open route.
      {head("GET /healthz"), 9437184, 401, "needs a bearer token"},
      {head("GET /healthz", bearer), 9437184, 413, "GET /healthz takes no request body"},
      {head("POST /healthz"), 9437184, 401, "needs a bearer token"},
      {head("POST /healthz"), 0, 401, "needs a bearer token"},
      {head("POST /healthz", bearer), 0, 404, "this path answers GET"},
      {head("GET /nope", bearer), 0, 404, "no such endpoint: GET /nope"},
      {head("GET /v1/runs"), 0, 401, "needs a bearer token"},
      {head("GET /v1/runs", "Authorization: Bearer wrong\r\n"), 0, 401,
       "wrong bearer token"},
      {head("GET /v1/runs", bearer), 0, 0, ""},
      {head("GET /v1/runs", bearer), 10, 413, "takes no request body"},
      {head("POST /v1/runs/r1/stop", bearer), 2, 0, ""},
      {head("POST /v1/runs/r1/stop", bearer), 2000, 413, "at most 1024 bytes"},
      {head("POST /v1/runs", bearer), limits.MaxBodyBytes(), 0, ""},
      {head("POST /v1/runs", bearer), limits.MaxBodyBytes() + 1, 413, "--max-plan-bytes"},
      {head("POST /v1/runs"), 5, 401, "needs a bearer token"},
  };
  for (const Case& c : cases) {
    Status verdict;
    RequestReader reader(limits.MaxBodyBytes() + kMaxRestHeaderBytes,
                         [&](const RestRequest& req, size_t content_length, BodyLease*) {
                           verdict = AdmitRequest(MatchRoute(req.method, req.resource),
                                                  req, content_length, auth, limits);
                           return verdict;
                         });
    std::string request =
        c.head + "Content-Length: " + std::to_string(c.content_length) + "\r\n\r\n";
    reader.Feed(request.data(), request.size());
    int code = verdict.ok()                                       ? 0
               : verdict.code() == StatusCode::kUnauthenticated   ? 401
               : verdict.code() == StatusCode::kNotFound          ? 404
               : verdict.code() == StatusCode::kResourceExhausted ? 413
                                                                  : 500;
    EXPECT_EQ(code, c.code) << c.head << verdict.message();
    EXPECT_NE(verdict.message().find(c.says), std::string::npos)
        << c.head << verdict.message();
  }
}

TEST(Printable, ShowsOnlyPrintableAscii) {
  EXPECT_EQ(Printable("/v1/runs/\xff\x1b[2J", 100), "/v1/runs/\\xFF\\x1B[2J");
  EXPECT_EQ(Printable("abcdef", 3), "abc...");
}

// A run id with invalid UTF-8 was echoed raw into the 404's JSON.
TEST(ErrorJson, NeverHoldsInvalidUtf8) {
  std::string json = ErrorJson(Status(
      StatusCode::kNotFound, "no such run: r\xff\xc3(\xed\xa0\x80\xc3\xa9", "$.a\xfe"));
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(json, &doc).ok()) << json;  // ParseJson validates UTF-8
  EXPECT_EQ(std::string(doc["error"]["message"].GetString()),
            "no such run: r\uFFFD\uFFFD(\uFFFD\uFFFD\uFFFD\u00E9");
  EXPECT_EQ(std::string(doc["error"]["path"].GetString()), "$.a\uFFFD");
  EXPECT_EQ(HttpCodeOf(Status(StatusCode::kNotFound, "x")), 404);
}

}  // namespace
}  // namespace loadd
