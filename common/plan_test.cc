#include "common/plan.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

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
  EXPECT_NE(json.find(R"("spawn_rate":2000,)"), std::string::npos) << json;  // a number
  EXPECT_EQ(again->users, 2000);
  EXPECT_EQ(again->duration_ns, 90 * kNsPerSec);
}

struct BadCase {
  const char* json;
  const char* path;     // the path the error must name
  const char* message;  // a fragment of the message
};

TEST(PlanTest, NameAndLabelsRoundTrip) {
  Result<Plan> plan = ParsePlan(
      R"({"name": "nightly checkout", "labels": {"commit": "abc123", "branch": "main"},
          "target": "http://127.0.0.1:8080", "users": 1})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->name, "nightly checkout");
  EXPECT_EQ(plan->labels, (Labels{{"branch", "main"}, {"commit", "abc123"}}));
  Result<Plan> again = ParsePlan(PlanToJson(*plan));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->labels, plan->labels);
  EXPECT_EQ(PlanToJson(*again), PlanToJson(*plan));
  Result<Plan> none = ParsePlan(kMinimal);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(PlanToJson(*none).find("labels"), std::string::npos);
}

TEST(PlanTest, BadNameOrLabelsNameTheField) {
  std::string many = "{";
  for (int i = 0; i < 17; ++i) {
    many += (i ? "," : "") + ("\"k" + std::to_string(i) + "\": \"v\"");
  }
  many += "}";
  const std::string kPlan = R"({"target": "http://h", "users": 1, )";
  struct Case {
    std::string json;
    const char* path;
    const char* message;
  };
  const Case kCases[] = {
      {kPlan + R"("name": ")" + std::string(257, 'n') + "\"}", "$.name", "256 bytes"},
      {kPlan + R"("name": "a\u001b[2Jb"})", "$.name", "control characters"},
      {kPlan + R"("labels": ["branch=main"]})", "$.labels", "must be an object"},
      {kPlan + R"("labels": )" + many + "}", "$.labels", "at most 16"},
      {kPlan + R"("labels": {"branch": 5}})", "$.labels.branch", "must be a string"},
      {kPlan + R"("labels": {"branch": ""}})", "$.labels.branch", "1 to 128 bytes"},
      {kPlan + R"("labels": {"branch": "a b"}})", "$.labels.branch", "not ' '"},
      {kPlan + R"("labels": {"branch": "a=b"}})", "$.labels.branch", "not '='"},
      {kPlan + R"("labels": {"_x": "y"}})", "$.labels._x", "start with a letter"},
      {kPlan + R"("labels": {"a": "1", "a": "2"}})", "$.labels.a", "given twice"},
  };
  for (const Case& c : kCases) {
    Result<Plan> plan = ParsePlan(c.json);
    ASSERT_FALSE(plan.ok()) << c.json;
    EXPECT_EQ(plan.status().path(), c.path) << plan.status().ToString();
    EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
        << plan.status().ToString();
  }
}

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
      {R"({"target": "http://h", "users": 1, "duration": "5"})", "$.duration",
       "needs a unit"},
      {R"({"target": "http://h", "users": 1, "duration": true})", "$.duration",
       "duration"},
      {R"({"target": "http://h", "users": 1, "spawn_rate": 0})", "$.spawn_rate",
       "greater than 0"},
      {R"({"target": "http://h", "users": 1, "timeout": "0s"})", "$.timeout", "between"},
      {R"({"users": 1})", "$.requests", "required"},
      {R"({"users": 1, "requests": []})", "$.requests", "non-empty"},
      {R"({"users": 1, "requests": [{"path": "/a"}]})", "$.requests[0].path", "$.target"},
      {R"({"users": 1, "requests": [{"url": "gopher://x/"}]})", "$.requests[0].url",
       "gopher"},
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
       "$.requests[0].headers", "\"Bad Name\" is not a valid header name"},
      {R"({"users": 1, "target": "http://h", "requests": [{"url": "http://a", "path": "/"}]})",
       "$.requests[0].path", "not both"},
      {R"({"users": 1, "target": "http://h", "requests": [{"path": "/{{user}}"}]})",
       "$.requests[0].path", "need scenarios"},
      {"{\"users\": 1, \"target\": \"http://h\", \"name\": \"\xff\"}", "$",
       "invalid JSON"},
  };
  for (const BadCase& c : kCases) {
    Result<Plan> plan = ParsePlan(c.json);
    ASSERT_FALSE(plan.ok()) << c.json;
    EXPECT_EQ(plan.status().path(), c.path)
        << c.json << " -> " << plan.status().ToString();
    EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
        << c.json << " -> " << plan.status().ToString();
  }
}

TEST(PlanTest, LoadModels) {
  Result<Plan> stages = ParsePlan(R"({"target": "http://h", "stages": [
      {"duration": "10s", "users": 100}, {"duration": "1m", "users": 100},
      {"duration": "10s", "users": 0}]})");
  ASSERT_TRUE(stages.ok()) << stages.status().ToString();
  EXPECT_EQ(stages->model, LoadModel::kClosed);
  EXPECT_EQ(stages->users, 100);
  EXPECT_EQ(stages->duration_ns, 80 * kNsPerSec);
  EXPECT_DOUBLE_EQ(stages->Profile().ValueAt(5 * kNsPerSec), 50);
  EXPECT_DOUBLE_EQ(stages->HandoverRate(), 10);

  Result<Plan> open = ParsePlan(
      R"({"target": "http://h", "arrival_rate": 500, "duration": "20s", "max_in_flight": 300})");
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_EQ(open->model, LoadModel::kOpen);
  EXPECT_EQ(open->Profile().TotalArrivals(), 10000);
  EXPECT_EQ(open->max_in_flight, 300);

  Result<Plan> ramp = ParsePlan(R"({"target": "http://h", "start_rate": 10,
      "stages": [{"duration": "10s", "rate": 110}], "expect_workers": 4})");
  ASSERT_TRUE(ramp.ok()) << ramp.status().ToString();
  EXPECT_EQ(ramp->Profile().TotalArrivals(), 600);
  EXPECT_EQ(ramp->expect_workers, 4);
  EXPECT_EQ(ramp->expect_timeout_ns, 60 * kNsPerSec);

  for (const Plan& p : {*stages, *open, *ramp}) {
    Result<Plan> again = ParsePlan(PlanToJson(p));
    ASSERT_TRUE(again.ok()) << again.status().ToString() << PlanToJson(p);
    EXPECT_EQ(PlanToJson(*again), PlanToJson(p));
  }
}

TEST(PlanTest, LoadModelMistakesNameTheField) {
  const BadCase kCases[] = {
      {R"({"target": "http://h", "stages": [{"duration": "1s", "users": 5}], "users": 5})",
       "$.users", "does not go with $.stages"},
      {R"({"target": "http://h", "stages": [{"duration": "1s", "users": 5}], "duration": "1s"})",
       "$.duration", "does not go with $.stages"},
      {R"({"target": "http://h", "stages": [{"users": 5}]})", "$.stages[0].duration",
       "required"},
      {R"({"target": "http://h", "stages": [{"duration": "1s", "users": 5}, {"duration": "1s"}]})",
       "$.stages[1].users", "required"},
      {R"({"target": "http://h", "stages": [{"duration": "1s", "rate": 5},
          {"duration": "1s", "users": 3}]})",
       "$.stages[1].rate", "required"},
      {R"({"target": "http://h", "stages": [{"duration": "1s", "rate": -5}]})",
       "$.stages[0].rate", "0 or more"},
      {R"({"target": "http://h", "stages": [{"duration": "1s", "rate": -1}]})",
       "$.stages[0].rate", "0 or more"},
      {R"({"target": "http://h", "stages": []})", "$.stages", "1 to 100"},
      {R"({"target": "http://h", "stages": [{"duration": "0s", "users": 3}]})",
       "$.stages", "add up"},
      {R"({"target": "http://h", "stages": [{"duration": "1s", "users": 0}]})",
       "$.stages", "no stage has any users"},
      {R"({"target": "http://h", "arrival_rate": 5, "users": 3})", "$.users",
       "open model"},
      {R"({"target": "http://h", "arrival_rate": 0})", "$.arrival_rate",
       "greater than 0"},
      {R"({"target": "http://h", "users": 3, "max_in_flight": 9})", "$.max_in_flight",
       "only for the open model"},
      {R"({"target": "http://h", "users": 3, "start_rate": 9})", "$.start_rate",
       "stages"},
      {R"({"target": "http://h", "arrival_rate": 5, "max_in_flight": 0})",
       "$.max_in_flight", "between 1"},
      {R"({"target": "http://h", "users": 3, "expect_workers": -1})", "$.expect_workers",
       "between 0"},
      {R"({"target": "http://h", "users": 3, "expect_timeout": "x"})", "$.expect_timeout",
       "duration"},
  };
  for (const BadCase& c : kCases) {
    Result<Plan> plan = ParsePlan(c.json);
    ASSERT_FALSE(plan.ok()) << c.json;
    EXPECT_EQ(plan.status().path(), c.path)
        << c.json << " -> " << plan.status().ToString();
    EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
        << c.json << " -> " << plan.status().ToString();
  }
}

constexpr const char* kScenarioPlan =
    R"({"target": "http://h", "users": 2, "env": {"PW": "x"},
  "scenarios": [{"name": "login", "weight": 2, "think_time": {"min": "1s", "max": "2s"},
    "steps": [
      {"name": "login", "method": "POST", "path": "/login",
       "json": {"user": "u{{user}}", "password": "{{env.PW}}"},
       "extract": {"token": {"json": "/token"}}, "checks": [{"status": [200, 201]}]},
      {"name": "/items/[id]", "path": "/items/{{random_int(1, 9)}}", "auth": {"bearer": "{{token}}"},
       "query": {"q": "{{uuid}}"}, "checks": [{"json": "/id", "equals": 3},
       {"header": "Content-Type", "contains": "json"}, {"latency": "<250ms"}]}]}]})";

TEST(PlanTest, ScenariosParseAndRoundTrip) {
  Result<Plan> plan = ParsePlan(kScenarioPlan);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->scenarios.size(), 1u);
  const Scenario& sc = plan->scenarios[0];
  EXPECT_EQ(sc.weight, 2);
  EXPECT_EQ(sc.think.kind, ThinkTime::Kind::kUniform);
  ASSERT_EQ(sc.steps.size(), 2u);
  EXPECT_EQ(sc.steps[0].checks[0].name, "login: status == [200,201]");
  EXPECT_TRUE(sc.steps[1].need_body);
  std::mt19937_64 rng(1);
  std::map<std::string, std::string> vars = {{"token", "t\r\nX: y"}};
  TemplateContext ctx{7, 0, &plan->env, &vars, &rng};
  EXPECT_EQ(sc.steps[0].body.Render(ctx), R"({"user":"u7","password":"x"})");
  // An extracted value can never inject a header.
  std::string auth;
  for (const auto& [k, t] : sc.steps[1].headers) {
    if (k == "Authorization") auth = t.Render(ctx);
  }
  EXPECT_EQ(auth, "Bearer t  X: y");  // CR and LF each become SP
  Result<Plan> again = ParsePlan(PlanToJson(*plan));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(PlanToJson(*again), PlanToJson(*plan));
}

TEST(PlanTest, ScenarioMistakesNameTheField) {
  auto plan = [](const std::string& steps, const std::string& extra = "") {
    return R"({"target": "http://h", "users": 1)" + extra +
           R"(, "scenarios": [{"steps": [)" + steps + "]}]}";
  };
  struct Case {
    std::string json;
    const char* path;
    const char* message;
  };
  const Case kCases[] = {
      {plan(R"({"path": "/{{tokn}}"})"), "$.scenarios[0].steps[0].path",
       "unknown variable"},
      {plan(R"({"path": "/x", "extract": {"t": {"json": "/t"}}}, {"path": "/{{tokn}}"})"),
       "$.scenarios[0].steps[1].path", "extracted by earlier steps: t"},
      {plan(R"({"path": "/{{env.NOPE}}"})"), "$.scenarios[0].steps[0].path",
       "--env NOPE="},
      {plan(R"({"path": "/{{random_int(5, 1)}}"})"), "$.scenarios[0].steps[0].path",
       "random_int"},
      {plan(R"({"path": "/{{user"})"), "$.scenarios[0].steps[0].path", "unclosed"},
      {plan(R"({"path": "/", "json": {}, "body": "x"})"), "$.scenarios[0].steps[0].json",
       "one of"},
      {plan(R"({"path": "/", "checks": [{"status": 99}]})"),
       "$.scenarios[0].steps[0].checks[0].status", "status code"},
      {plan(R"({"path": "/", "checks": [{"status": 200, "body_contains": "x"}]})"),
       "$.scenarios[0].steps[0].checks[0]", "exactly one"},
      {plan(R"({"path": "/", "checks": [{"json": "/a"}]})"),
       "$.scenarios[0].steps[0].checks[0].equals", "required"},
      {plan(R"({"path": "/", "checks": [{"json": "a", "equals": 1}]})"),
       "$.scenarios[0].steps[0].checks[0].json", "JSON pointer"},
      {plan(R"({"path": "/", "checks": [{"body_regex": "("}]})"),
       "$.scenarios[0].steps[0].checks[0].body_regex", "bad regex"},
      {plan(R"({"path": "/", "checks": [{"latency": "250ms"}]})"),
       "$.scenarios[0].steps[0].checks[0].latency", "<DURATION"},
      {plan(R"({"path": "/", "extract": {"t": {"json": "/a", "regex": "x"}}})"),
       "$.scenarios[0].steps[0].extract.t", "exactly one"},
      {plan(R"({"path": "/", "auth": {"bearer": "a", "basic": {}}})"),
       "$.scenarios[0].steps[0].auth", "one of"},
      {plan(R"({"path": "/", "timeout": "fast"})"), "$.scenarios[0].steps[0].timeout",
       "duration"},
      {plan(R"({"url": "http://{{host}}/"})"), "$.scenarios[0].steps[0].url", "template"},
      {plan(R"({"path": "/", "stepname": "x"})"), "$.scenarios[0].steps[0].stepname",
       "unknown"},
      {R"({"target": "http://h", "users": 1, "scenarios": []})", "$.scenarios",
       "1 to 100"},
      {R"({"target": "http://h", "users": 1, "scenarios": [{"steps": []}]})",
       "$.scenarios[0].steps", "1 to 100"},
      {R"({"target": "http://h", "users": 1, "scenarios": [{"steps": [{}]}],
          "requests": [{}]})",
       "$.requests", "not both"},
      {R"({"target": "http://h", "users": 1, "scenarios": [{"think_time": {"min": "2s",
          "max": "1s"}, "steps": [{}]}]})",
       "$.scenarios[0].think_time.max", ">= min"},
      {plan(R"({"path": "/{{data.nope}}"})", R"(, "data": {"content": "id\n1\n"})"),
       "$.scenarios[0].steps[0].path", "no such column"},
      {plan(R"({"path": "/"})", R"(, "data": {"content": "id,x\n1\n"})"),
       "$.data.content", "line 2"},
      {plan(R"({"path": "/"})", R"(, "data": {"content": "id\n1\n", "mode": "all"})"),
       "$.data.mode", "shared, sharded or random"},
      {plan(R"({"path": "/"})", R"(, "data": {"file": "u.csv", "content": "id\n1\n"})"),
       "$.data.file", "inlines"},
      {R"({"target": "http://h", "users": 1, "data": {"content": "id\n1\n"}})", "$.data",
       "add scenarios"},
      {plan(R"({"path": "/"})", R"(, "env": {"A": 1})"), "$.env.A", "must be a string"},
  };
  for (const Case& c : kCases) {
    Result<Plan> p = ParsePlan(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.status().path(), c.path) << c.json << " -> " << p.status().ToString();
    EXPECT_NE(p.status().message().find(c.message), std::string::npos)
        << c.json << " -> " << p.status().ToString();
  }
}

constexpr char kPemCert[] =
    "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";
constexpr char kPemKey[] =
    "-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----\\n";

TEST(PlanTest, HttpOptionsParseAndRoundTrip) {
  std::string json = std::string(R"({"target": "https://h", "users": 1, "cookies": false,
      "http_version": "2", "tls": {"ca": {"name": "ca.pem", "content": ")") +
                     kPemCert + R"("}, "cert": {"name": "c.pem", "content": ")" +
                     kPemCert + R"("}, "key": {"name": "c.key", "content": ")" + kPemKey +
                     R"("}}})";
  Result<Plan> plan = ParsePlan(json);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_FALSE(plan->http.cookies);
  EXPECT_EQ(plan->http.version, HttpOptions::Version::kHttp2);
  EXPECT_EQ(plan->http.tls.ca.name, "ca.pem");
  EXPECT_NE(plan->http.tls.key.content.find("PRIVATE KEY"), std::string::npos);
  Result<Plan> again = ParsePlan(PlanToJson(*plan));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(PlanToJson(*again), PlanToJson(*plan));
  // Defaults: cookies on, auto, no TLS settings; none written out.
  Result<Plan> plain = ParsePlan(R"({"target": "http://h", "users": 1})");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->http.cookies);
  EXPECT_EQ(plain->http.version, HttpOptions::Version::kAuto);
  EXPECT_EQ(PlanToJson(*plain).find("tls"), std::string::npos);
}

TEST(PlanTest, HttpOptionMistakesNameTheField) {
  auto plan = [](const std::string& extra, const char* target = "https://h") {
    return std::string(R"({"target": ")") + target + R"(", "users": 1, )" + extra + "}";
  };
  auto pem = [](const char* content) {
    return std::string(R"({"name": "x.pem", "content": ")") + content + "\"}";
  };
  const std::pair<std::string, BadCase> kCases[] = {
      {plan(R"("cookies": "yes")"), {"", "$.cookies", "true or false"}},
      {plan(R"("http_version": "3")"), {"", "$.http_version", "not auto, 1.1 or 2"}},
      {plan(R"("http_version": 2)"), {"", "$.http_version", "string"}},
      {plan(R"("http_version": "2")", "http://h"), {"", "$.target", "needs https://"}},
      {plan(R"("tls": {"ca": {"file": "ca.pem"}})"),
       {"", "$.tls.ca.file", "loadctl inlines"}},
      {plan(R"("tls": {"ca": )" + pem("hello") + "}"),
       {"", "$.tls.ca.content", "not PEM"}},
      {plan(R"("tls": {"cert": )" + pem(kPemCert) + "}"),
       {"", "$.tls.key", "both cert and key"}},
      {plan(R"("tls": {"key": )" + pem(kPemKey) + "}"),
       {"", "$.tls.cert", "both cert and key"}},
      {plan(R"("tls": {"key": )" + pem(kPemCert) + "}"),
       {"", "$.tls.key.content", "PRIVATE KEY"}},
      {plan(R"("tls": {"insecure": 1})"), {"", "$.tls.insecure", "true or false"}},
      {plan(R"("tls": {"ca": )" + pem(kPemCert) + R"(, "insecure": true})"),
       {"", "$.tls.insecure", "cannot be combined with ca"}},
      {plan(R"("tls": {"verify": false})"), {"", "$.tls.verify", "unknown field"}},
      {plan(R"("tls": {"ca": {"content": ")" + std::string(PemFile::kMaxBytes + 1, 'x') +
            "\"}}"),
       {"", "$.tls.ca.content", "64 KiB"}},
      {plan(R"("tls": "insecure")"), {"", "$.tls", "must be an object"}},
  };
  for (const auto& [json, c] : kCases) {
    Result<Plan> p = ParsePlan(json);
    ASSERT_FALSE(p.ok()) << json;
    EXPECT_EQ(p.status().path(), c.path) << json << " -> " << p.status().ToString();
    EXPECT_NE(p.status().message().find(c.message), std::string::npos)
        << json << " -> " << p.status().ToString();
  }
  // Scenario steps name their own path.
  Result<Plan> p = ParsePlan(R"({"target": "http://h", "users": 1, "http_version": "2",
      "scenarios": [{"steps": [{"path": "/"}]}]})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().path(), "$.scenarios[0].steps[0]");
}

// Fuzz findings: every plan the parser accepts must normalize to a plan it
// accepts again, unchanged.
TEST(PlanTest, RegressionNormalizedPlansParseAgain) {
  const std::string kPlans[] = {
      R"({"target": "http://h/)" + std::string(200, 'a') +
          R"(", "users": 1})",  // long default name
      R"({"target": "http://h", "users": 3, "spawn_rate": 33.333333333333336})",  // full
                                                                                  // precision
  };
  for (const std::string& json : kPlans) {
    Result<Plan> plan = ParsePlan(json);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    Result<Plan> again = ParsePlan(PlanToJson(*plan));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(PlanToJson(*again), PlanToJson(*plan));
  }
  EXPECT_NEAR(ParsePlan(kPlans[1])->spawn_rate, 33.333333333333336, 1e-12);
  // Fuzz findings: numbers with a zero significand parse without undefined
  // behaviour (the sanitizer build checks) and are refused where they are wrong.
  EXPECT_FALSE(ParsePlan(R"({"target": "http://h", "users": 0e223})").ok());
  EXPECT_FALSE(
      ParsePlan(R"({"target": "http://h", "users": 1, "spawn_rate": 0.0e044})").ok());
}

TEST(PlanTest, DeepNestingIsRejectedWithoutRecursion) {
  std::string deep(100000, '[');
  Result<Plan> plan = ParsePlan(deep);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace loadd
