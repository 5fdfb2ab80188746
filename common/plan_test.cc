#include "common/plan.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace loadd {
namespace {

constexpr const char* kMinimal =
    R"({"target": "http://127.0.0.1:8080", "users": 10, "duration": "5s"})";

TEST(PlanTest, MinimalPlanGetsDefaults) {
  Result<Plan> plan = ParsePlan(kMinimal);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->users, 10);
  EXPECT_EQ(plan->spawn_rate, 10);
  EXPECT_EQ(plan->duration_ns, 5 * kNsPerSec);
  EXPECT_EQ(plan->timeout_ns, 10 * kNsPerSec);
  ASSERT_EQ(plan->requests.size(), 1u);
  EXPECT_EQ(plan->requests[0].method, "GET");
  EXPECT_EQ(plan->requests[0].url.ToString(), "http://127.0.0.1:8080/");
  EXPECT_EQ(plan->requests[0].name, "GET /");
}

TEST(PlanTest, RequestsResolveAgainstTarget) {
  Result<Plan> plan = ParsePlan(R"({
    "target": "http://localhost:9000/api/", "users": 2, "spawn_rate": 0.5,
    "requests": [
      {"path": "/items?id=3", "method": "post", "body": "{}", "headers": {"X-A": "1"},
       "weight": 3, "name": "/items/[id]"},
      {"url": "http://[::1]:81/x"}
    ]})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->requests[0].url.ToString(), "http://localhost:9000/api/items?id=3");
  EXPECT_EQ(plan->requests[0].method, "POST");
  EXPECT_EQ(plan->requests[0].weight, 3);
  EXPECT_EQ(plan->requests[0].name, "/items/[id]");
  EXPECT_EQ(plan->requests[1].url.host, "::1");
  EXPECT_EQ(plan->requests[1].url.HostHeader(), "[::1]:81");
  EXPECT_DOUBLE_EQ(plan->spawn_rate, 0.5);
}

TEST(PlanTest, NormalizedJsonRoundTrips) {
  Result<Plan> plan = ParsePlan(R"({"name": "n", "target": "http://h:1", "users": "2k",
      "duration": "1m30s", "requests": [{"path": "/a", "headers": {"K": "v"}, "body": "b"}]})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string json = PlanToJson(*plan);
  Result<Plan> again = ParsePlan(json);
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << json;
  EXPECT_EQ(PlanToJson(*again), json);
  EXPECT_EQ(again->users, 2000);
  EXPECT_EQ(again->duration_ns, 90 * kNsPerSec);
}

struct BadCase {
  const char* json;
  const char* path;     // the path the error must name
  const char* message;  // a fragment of the message
};

TEST(PlanTest, BadInputNamesTheField) {
  const BadCase kCases[] = {
      {"{", "$", "invalid JSON"},
      {"[]", "$", "must be an object"},
      {R"({"target": "http://h", "users": -5})", "$.users", "between 1 and"},
      {R"({"target": "http://h", "users": 0})", "$.users", "between 1 and"},
      {R"({"target": "http://h", "users": 1.5})", "$.users", "whole number"},
      {R"({"target": "http://h", "users": "many"})", "$.users", "not a count"},
      {R"({"target": "http://h", "users": 99999999999})", "$.users", "between"},
      {R"({"target": "http://h"})", "$.users", "required"},
      {R"({"target": "http://h", "users": 1, "userz": 2})", "$.userz", "unknown field"},
      {R"({"target": "ftp://h", "users": 1})", "$.target", "scheme \"ftp\""},
      {R"({"target": "h:80", "users": 1})", "$.target", "not an absolute URL"},
      {R"({"target": "http://h", "users": 1, "duration": "5"})", "$.duration", "needs a unit"},
      {R"({"target": "http://h", "users": 1, "duration": true})", "$.duration", "duration"},
      {R"({"target": "http://h", "users": 1, "spawn_rate": 0})", "$.spawn_rate", "greater than 0"},
      {R"({"target": "http://h", "users": 1, "timeout": "0s"})", "$.timeout", "between"},
      {R"({"users": 1})", "$.requests", "required"},
      {R"({"users": 1, "requests": []})", "$.requests", "non-empty"},
      {R"({"users": 1, "requests": [{"path": "/a"}]})", "$.requests[0].path", "$.target"},
      {R"({"users": 1, "requests": [{"url": "gopher://x/"}]})", "$.requests[0].url", "gopher"},
      {R"({"users": 1, "target": "http://h", "requests": [{"path": "/a", "methd": "GET"}]})",
       "$.requests[0].methd", "unknown field"},
      {R"({"users": 1, "target": "http://h", "requests": [{"path": "/a", "method": "FETCH"}]})",
       "$.requests[0].method", "FETCH"},
      {R"({"users": 1, "target": "http://h", "requests": [{}, {"path": "a"}]})",
       "$.requests[1].path", "start with '/'"},
      {R"({"users": 1, "target": "http://h", "requests": [{"path": "/", "weight": 0}]})",
       "$.requests[0].weight", "between 1 and 1000"},
      {R"({"users": 1, "target": "http://h", "requests": [{"headers": {"A": 1}}]})",
       "$.requests[0].headers.A", "must be a string"},
      {R"({"users": 1, "target": "http://h", "requests": [{"headers": {"A": "x\r\nB: y"}}]})",
       "$.requests[0].headers.A", "CR, LF"},
      {R"({"users": 1, "target": "http://h", "requests": [{"headers": {"Bad Name": "x"}}]})",
       "$.requests[0].headers.Bad Name", "header name"},
      {R"({"users": 1, "target": "http://h", "requests": [{"url": "http://a", "path": "/"}]})",
       "$.requests[0].path", "not both"},
      {"{\"users\": 1, \"target\": \"http://h\", \"name\": \"\xff\"}", "$", "invalid JSON"},
  };
  for (const BadCase& c : kCases) {
    Result<Plan> plan = ParsePlan(c.json);
    ASSERT_FALSE(plan.ok()) << c.json;
    EXPECT_EQ(plan.status().path(), c.path) << c.json << " -> " << plan.status().ToString();
    EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
        << c.json << " -> " << plan.status().ToString();
  }
}

TEST(PlanTest, DeepNestingIsRejectedWithoutRecursion) {
  std::string deep(100000, '[');
  Result<Plan> plan = ParsePlan(deep);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace loadd
