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

// Runs that wait for a worker (expect_workers), with name and labels.
TEST_F(RestApiTest, RunsAreFilteredByLabelsAndState) {
  auto plan = [](const char* name, const char* labels) {
    return std::string(R"({"target": "http://127.0.0.1:9/", "users": 1,
        "duration": "1s", "expect_workers": 1, "name": ")") +
           name + R"(", "labels": )" + labels + "}";
  };
  // One active run at a time: "a" waits, is listed, then cancelled.
  RestResponse a = Call(Http::Method::Post, "/v1/runs", true,
                        plan("a", R"({"branch": "main", "commit": "abc"})"));
  ASSERT_EQ(a.code, 201) << a.body;
  auto names = [&](std::vector<RestField> query) {
    RestResponse r = Call(Http::Method::Get, "/v1/runs", true, "", std::move(query));
    EXPECT_EQ(r.code, 200) << r.body;
    std::string out;
    for (const char* n : {"\"name\":\"a\"", "\"name\":\"b\""}) {
      if (r.body.find(n) != std::string::npos) out += n[8];
    }
    return out;
  };
  EXPECT_EQ(names({{"label", "branch=main"}}), "a");
  EXPECT_EQ(names({{"label", "branch=main"}, {"label", "commit=abc"}}), "a");
  EXPECT_EQ(names({{"label", "branch=main"}, {"label", "commit=zzz"}}), "");
  EXPECT_EQ(names({{"label", "branch=main"}, {"state", "running,waiting"}}), "a");
  EXPECT_EQ(names({{"state", "finished,stopped"}}), "");
  std::string id = a.body.substr(a.body.find("\"id\":\"") + 6, 64);
  id = id.substr(0, id.find('"'));
  ASSERT_EQ(Call(Http::Method::Post, "/v1/runs/" + id + "/stop").code, 200);
  ASSERT_EQ(
      Call(Http::Method::Post, "/v1/runs", true, plan("b", R"({"branch": "dev"})")).code,
      201);
  EXPECT_EQ(names({}), "ab");
  EXPECT_EQ(names({{"state", "stopped"}}), "a");
  EXPECT_EQ(names({{"label", "branch=dev"}, {"state", "waiting"}}), "b");
  EXPECT_EQ(names({{"label", "branch=main"}, {"state", "waiting"}}), "");
  RestResponse listed = Call(Http::Method::Get, "/v1/runs");
  EXPECT_NE(listed.body.find(R"("labels":{"branch":"main","commit":"abc"})"),
            std::string::npos)
      << listed.body;
}

TEST_F(RestApiTest, AMalformedRunFilterIs400NamingTheParameter) {
  struct Case {
    RestField param;
    const char* message;
  };
  // As JSON writes them: the quotes escaped.
  const Case cases[] = {
      {{"label", "branch"}, R"(query parameter label \"branch\": must be key=value)"},
      {{"label", "b=a b"}, R"(query parameter label \"b=a b\": label value may hold)"},
      {{"state", "done"},
       R"(query parameter state: \"done\" is not a run state (one of waiting)"},
      {{"lable", "branch=main"}, R"(query parameter \"lable\": unknown)"},
  };
  for (const Case& c : cases) {
    RestResponse r = Call(Http::Method::Get, "/v1/runs", true, "", {c.param});
    EXPECT_EQ(r.code, 400) << c.param.name;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"path\":\"" + c.param.name + "\""), std::string::npos)
        << r.body;
  }
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
