#include "common/redact.h"

#include <gtest/gtest.h>

#include "common/plan.h"

namespace loadd {
namespace {

constexpr const char* kCert =
    "-----BEGIN CERTIFICATE-----\nCERTPUBLIC1\n-----END CERTIFICATE-----\n";

// A plan with a secret in every field kSecretPaths names, and public text
// beside each.
std::string ScenarioPlan() {
  return std::string(R"({"target": "https://127.0.0.1:8443", "users": 2,
    "env": {"TOKEN": "ENVSECRET1", "REGION": {"value": "eu-public", "public": true},
            "HIDDEN": {"value": "ENVSECRET2", "public": false}},
    "tls": {"cert": {"name": "c.pem", "content": ")") +
         R"(-----BEGIN CERTIFICATE-----\nCERTPUBLIC1\n-----END CERTIFICATE-----\n"},
            "key": {"name": "c.key", "content": )" +
         R"("-----BEGIN PRIVATE KEY-----\nKEYSECRET1\n-----END PRIVATE KEY-----\n"}},
    "scenarios": [{"steps": [
      {"path": "/a", "auth": {"bearer": "BEARERSECRET1"}, "headers": {"X-Trace": "t1"}},
      {"path": "/b", "auth": {"basic": {"user": "alice", "password": "BASICSECRET1"}}},
      {"path": "/c", "headers": {"authorization": "Token HEADERSECRET1"}},
      {"path": "/d", "headers": {"Proxy-Authorization": "Basic HEADERSECRET2"}}
    ]}]})";
}

std::string RequestsPlan() {
  return R"({"target": "http://127.0.0.1:8080", "users": 2,
    "requests": [{"path": "/", "headers": {"AUTHORIZATION": "Bearer HEADERSECRET3",
                                           "Accept": "text/plain"}}]})";
}

void ExpectNoSecret(const std::string& json) {
  for (const char* secret :
       {"KEYSECRET1", "ENVSECRET1", "ENVSECRET2", "BEARERSECRET1", "BASICSECRET1",
        "HEADERSECRET1", "HEADERSECRET2", "HEADERSECRET3"}) {
    EXPECT_EQ(json.find(secret), std::string::npos) << secret << " in " << json;
  }
}

TEST(RedactTest, EverySecretFieldShowsRedactedAndPublicTextStays) {
  Result<Plan> plan = ParsePlan(ScenarioPlan());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  // The plan itself (and so the workers' copy) keeps the secrets.
  EXPECT_NE(PlanToJson(*plan).find("BEARERSECRET1"), std::string::npos);
  EXPECT_EQ(plan->env.at("TOKEN"), "ENVSECRET1");
  std::string json = RedactedPlanJson(*plan);
  ExpectNoSecret(json);
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(json, &doc, 256).ok()) << json;
  EXPECT_STREQ(doc["env"]["TOKEN"].GetString(), "(redacted)");
  EXPECT_STREQ(doc["env"]["HIDDEN"].GetString(), "(redacted)");
  EXPECT_STREQ(doc["env"]["REGION"]["value"].GetString(), "eu-public");
  EXPECT_STREQ(doc["tls"]["key"]["content"].GetString(), "(redacted)");
  EXPECT_STREQ(doc["tls"]["key"]["name"].GetString(), "c.key");
  EXPECT_STREQ(doc["tls"]["cert"]["content"].GetString(), kCert);
  const rapidjson::Value& steps = doc["scenarios"][0]["steps"];
  EXPECT_STREQ(steps[0]["auth"]["bearer"].GetString(), "(redacted)");
  EXPECT_STREQ(steps[0]["headers"]["X-Trace"].GetString(), "t1");
  EXPECT_STREQ(steps[1]["auth"]["basic"]["password"].GetString(), "(redacted)");
  EXPECT_STREQ(steps[1]["auth"]["basic"]["user"].GetString(), "alice");
  EXPECT_STREQ(steps[2]["headers"]["authorization"].GetString(), "(redacted)");
  EXPECT_STREQ(steps[3]["headers"]["Proxy-Authorization"].GetString(), "(redacted)");
}

TEST(RedactTest, RequestsFormHeadersAreRedactedWhateverTheirCase) {
  Result<Plan> plan = ParsePlan(RequestsPlan());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string json = RedactedPlanJson(*plan);
  ExpectNoSecret(json);
  EXPECT_NE(json.find("\"AUTHORIZATION\":\"(redacted)\""), std::string::npos) << json;
  EXPECT_NE(json.find(R"("Accept":"text/plain")"), std::string::npos) << json;
}

TEST(RedactTest, RedactingTwiceChangesNothing) {
  Result<Plan> plan = ParsePlan(ScenarioPlan());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string once = RedactedPlanJson(*plan);
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(once, &doc, 256).ok());
  RedactPlan(&doc, &doc.GetAllocator());
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  doc.Accept(w);
  EXPECT_EQ(std::string(buf.GetString(), buf.GetSize()), once);
}

// A stored run keeps the redacted plan; it must read back (PlanFromJson) and
// show the same.
TEST(RedactTest, RedactedPlanReadsBackAsAStoredRunsPlan) {
  Result<Plan> plan = ParsePlan(ScenarioPlan());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string once = RedactedPlanJson(*plan);
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(once, &doc, 256).ok());
  Result<Plan> stored = PlanFromJson(doc);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(RedactedPlanJson(*stored), once);
  EXPECT_EQ(stored->public_env.count("REGION"), 1u);
}

// Posting a report's plan back would run with "(redacted)" as a password:
// refused, naming the field.
TEST(RedactTest, PlanToRunWithARedactedSecretIsRefusedAtItsPath) {
  struct Case {
    std::string fields;  // inside the plan object, after target and users
    std::string path;
  };
  const std::string r = "\"(redacted)\"";
  const Case cases[] = {
      {"\"env\": {\"T\": " + r + "}", "$.env.T"},
      {"\"env\": {\"T\": {\"value\": " + r + "}}", "$.env.T"},
      {"\"scenarios\": [{\"steps\": [{\"path\": \"/\", \"auth\": {\"bearer\": " + r +
           "}}]}]",
       "$.scenarios[0].steps[0].auth.bearer"},
      {"\"scenarios\": [{\"steps\": [{\"path\": \"/\"}, {\"path\": \"/\", \"auth\": "
       "{\"basic\": {\"user\": \"u\", \"password\": " +
           r + "}}}]}]",
       "$.scenarios[0].steps[1].auth.basic.password"},
      {"\"requests\": [{\"path\": \"/\", \"headers\": {\"Authorization\": " + r + "}}]",
       "$.requests[0].headers.Authorization"},
      {"\"tls\": {\"cert\": {\"content\": \"-----BEGIN CERTIFICATE-----\"}, "
       "\"key\": {\"content\": " +
           r + "}}",
       "$.tls.key.content"},
  };
  const std::string head = R"({"target": "http://127.0.0.1:8080", "users": 1, )";
  for (const Case& c : cases) {
    Result<Plan> plan = ParsePlan(head + c.fields + "}");
    ASSERT_FALSE(plan.ok()) << c.fields;
    EXPECT_EQ(plan.status().path(), c.path) << plan.status().ToString();
    EXPECT_NE(plan.status().message().find("(redacted)"), std::string::npos);
  }
  // A public value may read "(redacted)": it is not a secret.
  EXPECT_TRUE(
      ParsePlan(head + "\"env\": {\"T\": {\"value\": " + r + ", \"public\": true}}}")
          .ok());
}

TEST(RedactTest, EnvValueFormsAreCheckedAtTheirPath) {
  const std::string t = R"({"target": "http://127.0.0.1:8080", "users": 1, "env": )";
  Result<Plan> plan = ParsePlan(t + R"({"A": {"public": true}}})");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().path(), "$.env.A.value");
  plan = ParsePlan(t + R"({"A": {"value": "x", "public": "yes"}}})");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().path(), "$.env.A.public");
  plan = ParsePlan(t + R"({"A": {"value": "x", "shown": true}}})");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().path(), "$.env.A.shown");
  plan = ParsePlan(t + R"({"A": 3}})");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().path(), "$.env.A");
  plan = ParsePlan(t + R"({"A": {"value": "x", "public": true}, "B": "y"}})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->env.at("A"), "x");
  EXPECT_EQ(plan->public_env, std::set<std::string>{"A"});
  // The normalized plan is a fixed point with the marking kept.
  Result<Plan> again = ParsePlan(PlanToJson(*plan));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(PlanToJson(*again), PlanToJson(*plan));
}

TEST(RedactTest, SomethingThatIsNotAPlanIsLeftAlone) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(R"([1, {"env": "x"}, "tls"])", &doc).ok());
  RedactPlan(&doc, &doc.GetAllocator());
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  doc.Accept(w);
  EXPECT_EQ(std::string(buf.GetString(), buf.GetSize()), R"([1,{"env":"x"},"tls"])");
  ASSERT_TRUE(ParseJson(R"({"env": "x", "tls": {"key": 3}})", &doc).ok());
  EXPECT_TRUE(RefuseRedacted(doc).ok());
}

}  // namespace
}  // namespace loadd
