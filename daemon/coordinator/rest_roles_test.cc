// The role column of kRoutes (rest_routes.h), through AdmitRequest as the
// REST reader asks it: which role may call which route.
#include <gtest/gtest.h>

#include <string>

#include "daemon/coordinator/rest_api.h"
#include "daemon/coordinator/rest_audit.h"
#include "daemon/coordinator/rest_reader.h"
#include "daemon/coordinator/rest_routes.h"

namespace loadd {
namespace {

namespace Http = Pistache::Http;

// The verdict on `method path` sent with `secret`, and who it came from.
Status Verdict(const BearerAuth& auth, const std::string& line, const std::string& secret,
               size_t content_length, std::optional<TokenIdentity>* who) {
  RunLimits limits;
  Status verdict;
  RequestReader reader(limits.MaxBodyBytes() + kMaxRestHeaderBytes,
                       [&](const RestRequest& req, size_t length, BodyLease*) {
                         verdict = AdmitRequest(MatchRoute(req.method, req.resource), req,
                                                length, auth, limits, who);
                         return verdict;
                       });
  std::string request = line + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + secret +
                        "\r\nContent-Length: " + std::to_string(content_length) +
                        "\r\n\r\n";
  reader.Feed(request.data(), request.size());
  return verdict;
}

TEST(RouteRoles, EachRoleMayCallItsRoutes) {
  BearerAuth auth;
  auth.SetTokens({{"root", Role::kAdmin, Sha256Of("secret-root-0123456"), {}},
                  {"ci", Role::kRunner, Sha256Of("secret-ci-0123456"), {}},
                  {"eye", Role::kViewer, Sha256Of("secret-eye-0123456"), {}}});
  struct Case {
    const char* line;
    size_t body_bytes;
    bool viewer, runner, admin;  // admitted?
  };
  const Case cases[] = {
      {"GET /v1/workers", 0, true, true, true},
      {"GET /v1/runs", 0, true, true, true},
      {"GET /v1/runs/r1", 0, true, true, true},
      {"GET /v1/runs/r1/hlog", 0, true, true, true},
      {"GET /metrics", 0, true, true, true},
      {"GET /healthz", 0, true, true, true},
      {"POST /v1/runs", 100, false, true, true},
      {"POST /v1/runs/r1/stop", 2, false, true, true},
      {"PATCH /v1/runs/r1", 14, false, true, true},
  };
  for (const Case& c : cases) {
    for (auto [secret, name, allowed] :
         {std::tuple{"secret-eye-0123456", "eye", c.viewer},
          std::tuple{"secret-ci-0123456", "ci", c.runner},
          std::tuple{"secret-root-0123456", "root", c.admin}}) {
      std::optional<TokenIdentity> who;
      Status verdict = Verdict(auth, c.line, secret, c.body_bytes, &who);
      EXPECT_EQ(verdict.ok(), allowed)
          << c.line << " as " << name << ": " << verdict.ToString();
      if (!allowed) {
        EXPECT_EQ(verdict.code(), StatusCode::kPermissionDenied);
        EXPECT_EQ(HttpCodeOf(verdict), 403);
        EXPECT_NE(verdict.message().find("token \"eye\" has role viewer"),
                  std::string::npos)
            << verdict.message();
        EXPECT_NE(verdict.message().find("needs role runner or admin"),
                  std::string::npos);
      }
      // Open routes do not ask for the token; the others say who sent it.
      if (std::string(c.line) != "GET /healthz") {
        ASSERT_TRUE(who.has_value()) << c.line;
        EXPECT_EQ(who->name, name);
      }
    }
  }
  // A viewer is refused before the body of a plan is read: at header time,
  // whatever the declared size.
  std::optional<TokenIdentity> who;
  EXPECT_EQ(Verdict(auth, "POST /v1/runs", "secret-eye-0123456", 9'000'000, &who).code(),
            StatusCode::kPermissionDenied);
  // A wrong token stays 401, and unknown paths 404 for every role.
  EXPECT_EQ(Verdict(auth, "POST /v1/runs", "nope-0123456789abc", 10, &who).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Verdict(auth, "GET /v1/nope", "secret-eye-0123456", 0, &who).code(),
            StatusCode::kNotFound);
}

TEST(RouteRoles, EveryRouteThatChangesARunNeedsARunner) {
  for (const RouteRule& rule : kRoutes) {
    bool changes = rule.method != Http::Method::Get;
    EXPECT_EQ(RoleAllows(Role::kViewer, rule.role), !changes) << rule.path;
    EXPECT_TRUE(RoleAllows(Role::kRunner, rule.role) || rule.role == RouteRole::kAdmin)
        << rule.path;
    EXPECT_TRUE(RoleAllows(Role::kAdmin, rule.role)) << rule.path;
  }
  EXPECT_FALSE(RoleAllows(Role::kRunner, RouteRole::kAdmin));
}

TEST(RouteRoles, ARunnerActsOnlyOnItsOwnRunsAnAdminOnAny) {
  TokenIdentity admin{"root", Role::kAdmin, {}};
  TokenIdentity ci{"ci", Role::kRunner, {}};
  TokenIdentity eye{"eye", Role::kViewer, {}};
  EXPECT_TRUE(MayActOnRun("r1", "ci", ci).ok());
  EXPECT_TRUE(MayActOnRun("r1", "other", admin).ok());
  EXPECT_TRUE(MayActOnRun("r1", "", admin).ok());
  Status other = MayActOnRun("r1", "other", ci);
  EXPECT_EQ(HttpCodeOf(other), 403);
  EXPECT_NE(other.message().find("run r1 was started by token \"other\"; token \"ci\" "
                                 "has role runner"),
            std::string::npos)
      << other.message();
  // A run from before tokens had names is no runner's.
  EXPECT_EQ(HttpCodeOf(MayActOnRun("r1", "", ci)), 403);
  EXPECT_EQ(HttpCodeOf(MayActOnRun("r1", "eye", eye)), 403);
}

TEST(RouteRoles, AuditLinesNameTheActionAndTheRefusal) {
  EXPECT_STREQ(AuditActionOf(MatchRoute(Http::Method::Post, "/v1/runs")), "start");
  EXPECT_STREQ(AuditActionOf(MatchRoute(Http::Method::Post, "/v1/runs/r1/stop")), "stop");
  EXPECT_STREQ(AuditActionOf(MatchRoute(Http::Method::Get, "/v1/runs/r1")), "read");
  EXPECT_STREQ(AuditActionOf(MatchRoute(Http::Method::Get, "/nope")), "request");
  AuditEntry e = AuditEntryOf(TokenIdentity{"ci", Role::kRunner, {}}, "::1", "stop", "r1",
                              Status(StatusCode::kPermissionDenied, "not yours"));
  EXPECT_EQ(e.token, "ci");
  EXPECT_FALSE(e.ok);
  EXPECT_EQ(e.code, 403);
  EXPECT_EQ(e.reason, "not yours");
  e = AuditEntryOf(std::nullopt, "::1", "read", "", Status::Ok());
  EXPECT_EQ(e.token, "-");
  EXPECT_TRUE(e.ok);
}

}  // namespace
}  // namespace loadd
