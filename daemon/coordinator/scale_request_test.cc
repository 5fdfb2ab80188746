// PATCH /v1/runs/{id}'s body and its limits (scale_request.h): table-driven.
#include "daemon/coordinator/scale_request.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

TEST(ScaleRequest, ParsesUsersOrRate) {
  Result<ScaleRequest> users = ParseScaleRequest(R"({"users": 300})");
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  EXPECT_EQ(users->model, LoadModel::kClosed);
  EXPECT_EQ(users->value, 300);
  Result<ScaleRequest> rate = ParseScaleRequest(R"({"rate": 600.5})");
  ASSERT_TRUE(rate.ok()) << rate.status().ToString();
  EXPECT_EQ(rate->model, LoadModel::kOpen);
  EXPECT_EQ(rate->value, 600.5);
  EXPECT_TRUE(ParseScaleRequest(R"({"users": 0})").ok());
}

TEST(ScaleRequest, RefusalsNameThePath) {
  struct Case {
    const char* body;
    const char* path;
  };
  const Case cases[] = {
      {"", "$"},
      {"[1]", "$"},
      {"{}", "$"},
      {R"({"users": 1, "rate": 2})", "$"},
      {R"({"users": -1})", "$.users"},
      {R"({"users": 1.5})", "$.users"},
      {R"({"users": "many"})", "$.users"},
      {R"({"users": 20000000})", "$.users"},
      {R"({"rate": -3})", "$.rate"},
      {R"({"rate": true})", "$.rate"},
      {R"({"users": 5, "spawn_rate": 9})", "$.spawn_rate"},
  };
  for (const Case& c : cases) {
    Result<ScaleRequest> r = ParseScaleRequest(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(r.status().path(), c.path) << c.body << ": " << r.status().ToString();
  }
}

TEST(ScaleRequest, LimitsAndCapsAreNamed) {
  RunLimits limits;
  limits.max_users = 200;
  limits.max_rate = 500;
  TokenIdentity admin{"root", Role::kAdmin, {}};
  TokenIdentity capped{"ci", Role::kRunner, {}};
  capped.caps.max_users = 150;
  capped.caps.max_rate = 400;
  capped.caps.max_runs = 1;  // not a scale's concern
  struct Case {
    ScaleRequest request;
    const TokenIdentity* who;
    const char* names;  // "" : allowed
  };
  const Case cases[] = {
      {{LoadModel::kClosed, 200}, &admin, ""},
      {{LoadModel::kClosed, 201}, &admin, "--max-users"},
      {{LoadModel::kOpen, 500}, &admin, ""},
      {{LoadModel::kOpen, 501}, &admin, "--max-rate"},
      {{LoadModel::kClosed, 150}, &capped, ""},
      {{LoadModel::kClosed, 151}, &capped, "max-users=150"},
      {{LoadModel::kOpen, 401}, &capped, "max-rate=400"},
  };
  for (const Case& c : cases) {
    Status s = CheckScaleLimits(c.request, limits, *c.who);
    if (std::string(c.names).empty()) {
      EXPECT_TRUE(s.ok()) << c.request.value << ": " << s.ToString();
      continue;
    }
    ASSERT_FALSE(s.ok()) << c.request.value;
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
    EXPECT_NE(s.message().find(c.names), std::string::npos) << s.message();
    EXPECT_EQ(s.path(), c.request.path());
  }
}

}  // namespace
}  // namespace loadd
