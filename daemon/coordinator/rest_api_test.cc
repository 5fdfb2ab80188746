// The REST handlers through RestApi::Handle: plain requests in, plain
// responses out, no socket and no Pistache server.
#include "daemon/coordinator/rest_api.h"

#include <gtest/gtest.h>

#include <string>

#include "common/clock.h"
#include "daemon/coordinator/metrics.h"
#include "daemon/coordinator/tokens.h"

namespace loadd {
namespace {

namespace Http = Pistache::Http;

constexpr char kToken[] = "rest-api-test-token-0123456789";

class NoBus : public FleetBus {
 public:
  void SendTo(uint32_t, const std::string&) override {}
  int64_t DeliveredUpToNs(int64_t now_ns) const override { return now_ns; }
};

class RestApiTest : public ::testing::Test {
 protected:
  RestApiTest() { auth_.SetToken(kToken); }

  RestResponse Call(Http::Method method, std::string resource, bool token = true,
                    std::string body = "", std::vector<RestField> query = {},
                    std::vector<RestField> headers = {}) {
    RestRequest request;
    request.method = method;
    request.resource = std::move(resource);
    request.body = std::move(body);
    request.query = std::move(query);
    request.headers = std::move(headers);
    if (token)
      request.headers.push_back({"authorization", std::string("Bearer ") + kToken});
    return api_.Handle(request);
  }
  static std::string HeaderOf(const RestResponse& r, const std::string& name) {
    for (const RestField& h : r.headers) {
      if (h.name == name) return h.value;
    }
    return "";
  }

  NoBus bus_;
  FakeClock clock_{1'000'000'000'000};
  Coordinator coordinator_{&bus_, &clock_};
  BearerAuth auth_;
  LiveLimits limits_{RunLimits()};
  RestApi api_{&coordinator_, &auth_, &limits_, &clock_};
};

TEST_F(RestApiTest, HealthTellsStrangersOnlyThatItIsUp) {
  RestResponse open = Call(Http::Method::Get, "/healthz", false);
  EXPECT_EQ(open.code, 200);
  EXPECT_EQ(open.content_type, "application/json");
  EXPECT_EQ(open.body, "{\"status\":\"ok\"}\n");
  RestResponse full = Call(Http::Method::Get, "/healthz");
  EXPECT_NE(full.body.find("\"workers\":0"), std::string::npos) << full.body;
}

TEST_F(RestApiTest, TokenRoutesRefuseStrangersWithABearerChallenge) {
  for (const char* path : {"/v1/runs", "/v1/workers", "/metrics", "/nowhere"}) {
    RestResponse r = Call(Http::Method::Get, path, false);
    EXPECT_EQ(r.code, 401) << path;
    EXPECT_EQ(HeaderOf(r, "WWW-Authenticate"), "Bearer") << path;
    EXPECT_NE(r.body.find("\"code\":\"unauthenticated\""), std::string::npos) << r.body;
  }
}

TEST_F(RestApiTest, UnknownPathsAndMethodsAre404NamingTheMethods) {
  RestResponse r = Call(Http::Method::Delete, "/v1/runs");
  EXPECT_EQ(r.code, 404);
  EXPECT_NE(r.body.find("this path answers GET, POST"), std::string::npos) << r.body;
}

TEST_F(RestApiTest, APlanIsParsedAndRefusedWithoutWorkers) {
  RestResponse bad = Call(Http::Method::Post, "/v1/runs", true, R"({"users": 1})");
  EXPECT_EQ(bad.code, 400);
  EXPECT_NE(bad.body.find("\"path\""), std::string::npos) << bad.body;
  RestResponse good = Call(Http::Method::Post, "/v1/runs", true,
                           R"({"target": "http://127.0.0.1:9/", "users": 1,
                               "duration": "1s"})");
  EXPECT_EQ(good.code, 409) << good.body;
  EXPECT_NE(good.body.find("no live workers"), std::string::npos) << good.body;
}

TEST_F(RestApiTest, QueryParametersReachTheHandler) {
  RestResponse r = Call(Http::Method::Get, "/v1/runs/nope", true, "", {{"since", "x"}});
  EXPECT_EQ(r.code, 400);
  EXPECT_NE(r.body.find("since"), std::string::npos) << r.body;
  EXPECT_EQ(Call(Http::Method::Get, "/v1/runs/nope").code, 404);
}

TEST_F(RestApiTest, DashboardFilesCarryAnETagAndRevalidate) {
  RestResponse page = Call(Http::Method::Get, "/", false);
  ASSERT_EQ(page.code, 200);
  EXPECT_NE(page.content_type.find("text/html"), std::string::npos) << page.content_type;
  std::string etag = HeaderOf(page, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(HeaderOf(page, "X-Content-Type-Options"), "nosniff");
  RestResponse again =
      Call(Http::Method::Get, "/", false, "", {}, {{"If-None-Match", etag}});
  EXPECT_EQ(again.code, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(Call(Http::Method::Get, "/ui/none.js", false).code, 401);
  EXPECT_EQ(Call(Http::Method::Get, "/ui/none.js").code, 404);
}

TEST_F(RestApiTest, MetricsAreThePrometheusTextFormat) {
  RestResponse r = Call(Http::Method::Get, "/metrics");
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.content_type, kMetricsContentType);
  EXPECT_NE(r.body.find("# TYPE"), std::string::npos);
}

TEST_F(RestApiTest, BodiesARouteDoesNotReadAre413) {
  RestResponse r = Call(Http::Method::Get, "/v1/runs", true, "x");
  EXPECT_EQ(r.code, 413);
}

TEST_F(RestApiTest, RolesDecideThroughTheTableToo) {
  auth_.SetTokens({{"eye", Role::kViewer, Sha256Of("secret-eye-0123456"), {}}});
  std::vector<RestField> eye = {{"Authorization", "Bearer secret-eye-0123456"}};
  EXPECT_EQ(Call(Http::Method::Get, "/v1/runs", false, "", {}, eye).code, 200);
  RestResponse start = Call(Http::Method::Post, "/v1/runs", false, "{}", {}, eye);
  EXPECT_EQ(start.code, 403);
  EXPECT_NE(start.body.find("needs role"), std::string::npos) << start.body;
}

TEST(ParseQuery, SplitsAtAmpersandsAndFirstEqualsAndDecodes) {
  struct Case {
    const char* query;
    std::vector<RestField> want;
  };
  const Case cases[] = {
      {"", {}},
      {"a=1", {{"a", "1"}}},
      {"a=1&&b", {{"a", "1"}, {"b", ""}}},
      {"label=k=v&label=x%3Dy", {{"label", "k=v"}, {"label", "x=y"}}},
      {"n=a+b%20c", {{"n", "a b c"}}},
      {"p=%zz%4", {{"p", "%zz%4"}}},
      {"%6Eame=%E2%82%AC", {{"name", "\xE2\x82\xAC"}}},
  };
  for (const Case& c : cases) {
    std::vector<RestField> got = ParseQuery(c.query);
    ASSERT_EQ(got.size(), c.want.size()) << c.query;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].name, c.want[i].name) << c.query;
      EXPECT_EQ(got[i].value, c.want[i].value) << c.query;
    }
  }
}

}  // namespace
}  // namespace loadd
