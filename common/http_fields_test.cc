// The HTTP field rules (common/http_fields.h) through both plan forms:
// every CR/LF injection of issue 14 is refused at validation with its JSON
// path, literal query and form text is url-encoded, and a value that
// arrives at run time (data file, extraction, env) never puts CR, LF or NUL
// into a header or the request line.
#include "common/http_fields.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "common/plan.h"

namespace loadd {
namespace {

// Where a bad request's fields go, in each plan form.
struct Form {
  const char* name;
  std::string (*plan)(const std::string& fields);
  const char* at;  // JSON path of the request the fields belong to
};

std::string RequestsPlan(const std::string& fields) {
  return R"({"users": 1, "target": "http://127.0.0.1:9", "requests": [{"path": "/a"},
      {)" +
         fields + "}]}";
}

std::string ScenarioPlan(const std::string& fields) {
  return R"({"users": 1, "target": "http://127.0.0.1:9", "scenarios": [{"steps": [
      {"path": "/a"}, {"path": "/b"}, {)" +
         fields + "}]}]}";
}

const Form kForms[] = {
    {"requests", RequestsPlan, "$.requests[1]"},
    {"scenarios", ScenarioPlan, "$.scenarios[0].steps[2]"},
};

struct Injection {
  const char* fields;  // JSON members of one request (or step)
  const char* path;    // appended to the request's path
  const char* message;
};

// Refused in both forms with the same path and reason.
const Injection kBothForms[] = {
    // Issue 14: a header name that smuggles a header and a second request.
    {R"("headers": {"X-Name\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1\r\nX": "v"})",
     ".headers", R"(header name "X-Name\r\nX-Injected: 1\r\n\r\nGET /smuggled)"},
    {R"("headers": {"X-Name\nX-Injected: 1": "v"})", ".headers",
     "not a valid header name"},
    {R"("headers": {"X-Name\u0000": "v"})", ".headers", R"("X-Name\x00")"},
    {R"("headers": {"Bad Name": "v"})", ".headers", "not a valid header name"},
    {R"("headers": {"X-A:": "v"})", ".headers", "not a valid header name"},
    {R"("headers": {"": "v"})", ".headers", R"(header name "")"},
    {R"("headers": {"X-A": "v\r\nX-Injected: 1"})", ".headers.X-A",
     "must not contain CR, LF or NUL"},
    {R"("headers": {"X-A": "v\nX-Injected: 1"})", ".headers.X-A", "CR, LF or NUL"},
    {R"("headers": {"X-A": "v\rX"})", ".headers.X-A", "CR, LF or NUL"},
    {R"("headers": {"X-A": "v\u0000X-Injected: 1"})", ".headers.X-A", "CR, LF or NUL"},
    {R"("headers": {"X-A": 1})", ".headers.X-A", "must be a string"},
    {R"("path": "/a\r\nX-Injected: 1")", ".path", "control character"},
    {R"("path": "/a HTTP/1.1\r\n\r\nGET /smuggled")", ".path", "space"},
    {R"("url": "http://127.0.0.1:9/a\nX")", ".url", "control character"},
    {R"("method": "GET /smuggled HTTP/1.1\r\nX")", ".method",
     R"("GET /smuggled HTTP/1.1\r\nX" is not one of)"},
    {R"("method": "FETCH")", ".method", "is not one of GET"},
};

TEST(HttpFieldsTest, InjectionsAreRefusedWithTheirPathInBothForms) {
  for (const Form& form : kForms) {
    for (const Injection& c : kBothForms) {
      std::string json = form.plan(c.fields);
      Result<Plan> plan = ParsePlan(json);
      ASSERT_FALSE(plan.ok()) << form.name << ": " << json;
      EXPECT_EQ(plan.status().path(), std::string(form.at) + c.path)
          << form.name << ": " << json << " -> " << plan.status().ToString();
      EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
          << form.name << ": " << json << " -> " << plan.status().ToString();
      // The message quotes names escaped: it never holds a raw line break.
      EXPECT_EQ(plan.status().ToString().find_first_of("\r\n"), std::string::npos)
          << plan.status().ToString();
    }
  }
}

// Fields only steps have (auth, query, form). The requests form refuses
// each as an unknown field, at the same path.
const Injection kStepOnly[] = {
    {R"("auth": {"bearer": "tok\r\nX-Injected: 1"})", ".auth.bearer",
     "must not contain CR, LF or NUL"},
    {R"("auth": {"bearer": "tok\u0000"})", ".auth.bearer", "CR, LF or NUL"},
    {R"("auth": {"bearer": "{{user}}\nX-Injected: 1"})", ".auth.bearer", "CR, LF or NUL"},
    {R"("auth": {"basic": {"user": "u\r\nX-Injected: 1", "password": "p"}})",
     ".auth.basic.user", "control characters"},
    {R"("auth": {"basic": {"user": "a:b", "password": "p"}})", ".auth.basic.user", "':'"},
    {R"("auth": {"basic": {"user": "u", "password": "p\r\nX-Injected: 1"}})",
     ".auth.basic.password", "control characters"},
    {R"("query": {"q\r\nX-Injected: 1": "v"})", ".query",
     R"(name "q\r\nX-Injected: 1" must be non-empty, without CR, LF or NUL)"},
    {R"("query": {"": "v"})", ".query", "non-empty"},
    {R"("query": {"q": "v HTTP/1.1\r\nX-Injected: 1"})", ".query.q",
     "must not contain CR, LF or NUL"},
    {R"("query": {"q": "v\u0000"})", ".query.q", "CR, LF or NUL"},
    {R"("query": {"q": 1})", ".query.q", "must be a string"},
    {R"("method": "POST", "form": {"k\r\nX-Injected: 1": "v"})", ".form",
     "without CR, LF or NUL"},
    {R"("method": "POST", "form": {"k": 1})", ".form.k", "must be a string"},
};

TEST(HttpFieldsTest, StepOnlyInjectionsAreRefusedWithTheirPath) {
  for (const Injection& c : kStepOnly) {
    std::string json = ScenarioPlan(c.fields);
    Result<Plan> plan = ParsePlan(json);
    ASSERT_FALSE(plan.ok()) << json;
    EXPECT_EQ(plan.status().path(), std::string("$.scenarios[0].steps[2]") + c.path)
        << json << " -> " << plan.status().ToString();
    EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
        << json << " -> " << plan.status().ToString();
    EXPECT_EQ(plan.status().ToString().find_first_of("\r\n"), std::string::npos)
        << plan.status().ToString();

    json = RequestsPlan(c.fields);
    plan = ParsePlan(json);
    ASSERT_FALSE(plan.ok()) << json;
    std::string field = std::string(c.path).substr(1);
    field = field.substr(0, field.find('.'));
    EXPECT_EQ(plan.status().path(), "$.requests[1]." + field) << plan.status().ToString();
    EXPECT_NE(plan.status().message().find("unknown field"), std::string::npos)
        << plan.status().ToString();
  }
}

TEST(HttpFieldsTest, GoodFieldsPassInBothForms) {
  const char* kGood[] = {
      R"("headers": {"X-Custom_1.a!#$%&'*+^`|~": "v\tw \u00e9"})",
      R"("method": "patch", "headers": {"Accept": ""})",
      R"("path": "/a/b?c=d")",
  };
  for (const Form& form : kForms) {
    for (const char* fields : kGood) {
      Result<Plan> plan = ParsePlan(form.plan(fields));
      EXPECT_TRUE(plan.ok()) << form.name << ": " << fields << " -> "
                             << plan.status().ToString();
    }
  }
}

TEST(HttpFieldsTest, Tokens) {
  EXPECT_TRUE(IsHttpToken("Content-Type"));
  EXPECT_TRUE(IsHttpToken("!#$%&'*+-.^_`|~09azAZ"));
  for (const char* bad : {"", "a b", "a:b", "a\r", "a\n", "a\t", "a(b)", "a/b", "a\"",
                          "a\x7f", "\xc3\xa9"}) {
    EXPECT_FALSE(IsHttpToken(bad)) << QuoteForMessage(bad);
  }
  EXPECT_FALSE(IsHttpToken(std::string_view("a\0b", 3)));
  EXPECT_TRUE(HasCrLfNul(std::string_view("a\0b", 3)));
  EXPECT_TRUE(HasCrLfNul("a\rb"));
  EXPECT_TRUE(HasCrLfNul("a\nb"));
  EXPECT_FALSE(HasCrLfNul("a\tb c"));
}

TEST(HttpFieldsTest, QuoteForMessageEscapesAndCuts) {
  EXPECT_EQ(QuoteForMessage("a\r\n\t\"\\\x01\xff"), R"("a\r\n\t\"\\\x01\xFF")");
  EXPECT_EQ(QuoteForMessage(std::string(100, 'x')),
            "\"" + std::string(60, 'x') + "...\"");
}

TEST(HttpFieldsTest, ParamsAreUrlEncodedOutsideTemplates) {
  std::string out;
  AppendUrlEncoded("a&b=c d/~._-\r\n\xc3\xa9", &out);
  EXPECT_EQ(out, "a%26b%3Dc%20d%2F~._-%0D%0A%C3%A9");
  EXPECT_EQ(EncodeParams({{"lit", "a&b=c d"}, {"k y", "{{ user }}&{{uuid}}"}}),
            "lit=a%26b%3Dc%20d&k%20y={{ user }}%26{{uuid}}");
  // An unclosed {{ is kept for the template compiler to refuse.
  EXPECT_EQ(EncodeParams({{"a", "x y{{user"}}), "a=x%20y{{user");
  EXPECT_EQ(EncodeParams({}), "");
}

TEST(HttpFieldsTest, BasicAuthIsBase64OfUserColonPassword) {
  AuthFields auth;
  auth.user = "Aladdin";
  auth.password = "open sesame";
  EXPECT_EQ(AuthorizationValue(auth), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  auth = AuthFields{};
  auth.bearer = "{{token}}";
  EXPECT_EQ(AuthorizationValue(auth), "Bearer {{token}}");
}

// What a step's templates render to, with `vars` as run-time values.
struct Rendered {
  std::string target;
  std::map<std::string, std::string> headers;
  std::string body;
};

Rendered RenderStep(const Plan& plan, const Step& step,
                    const std::map<std::string, std::string>& vars) {
  std::mt19937_64 rng(1);
  TemplateContext ctx{0, 0, &plan.env, &vars, &rng};
  Rendered r;
  r.target = step.target.Render(ctx);
  for (const auto& [name, value] : step.headers) r.headers[name] = value.Render(ctx);
  if (step.has_body) r.body = step.body.Render(ctx);
  return r;
}

TEST(HttpFieldsTest, LiteralFormAndQueryTextIsEncoded) {
  Result<Plan> plan = ParsePlan(R"({"users": 1, "target": "http://127.0.0.1:9",
      "env": {"V": "v"}, "scenarios": [{"steps": [{"path": "/a"}, {"path": "/a"},
      {"method": "POST", "path": "/b", "query": {"q": "a b&c=d", "k y": "1"},
       "form": {"lit": "a&b=c d", "multi line": "x\r\ny", "t": "{{env.V}}"}}]}]})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  Plan p = *plan;
  p.env["V"] = "x&y=z w";
  Rendered r = RenderStep(p, p.scenarios[0].steps[2], {});
  EXPECT_EQ(r.target, "/b?q=a%20b%26c%3Dd&k%20y=1");
  EXPECT_EQ(r.body, "lit=a%26b%3Dc%20d&multi%20line=x%0D%0Ay&t=x%26y%3Dz%20w");
  EXPECT_EQ(r.headers["Content-Type"], "application/x-www-form-urlencoded");
  // The normalized plan keeps the plan's own text (encoded again on parse).
  Result<Plan> again = ParsePlan(PlanToJson(*plan));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(RenderStep(p, again->scenarios[0].steps[2], {}).body, r.body);
}

// A value that arrives at run time (an extraction from a hostile target, a
// data-file cell, an env value) with CR, LF or NUL: in a header each
// becomes SP (the value stays on its line); in the path, query and form it
// is percent-encoded. Nothing can end a line or the head.
TEST(HttpFieldsTest, RunTimeValuesNeverBreakALine) {
  Result<Plan> plan = ParsePlan(R"({"users": 1, "target": "http://127.0.0.1:9",
      "env": {"E": "e"}, "scenarios": [{"steps": [
      {"path": "/seed", "extract": {"tok": {"json": "/t"}}},
      {"method": "POST", "path": "/p/{{tok}}", "query": {"q": "{{tok}}"},
       "headers": {"X-T": "a {{tok}} {{env.E}}"}, "auth": {"bearer": "{{tok}}"},
       "form": {"f": "{{tok}}"}}]}]})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  Plan p = *plan;
  static constexpr char kHostile[] =
      "t\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1\r\n\0z";
  const std::string hostile(kHostile, sizeof kHostile - 1);
  p.env["E"] = hostile;
  Rendered r = RenderStep(p, p.scenarios[0].steps[1], {{"tok", hostile}});
  const std::string spaced = "t  X-Injected: 1    GET /smuggled HTTP/1.1   z";
  EXPECT_EQ(r.headers["X-T"], "a " + spaced + " " + spaced);
  EXPECT_EQ(r.headers["Authorization"], "Bearer " + spaced);
  const std::string encoded =
      "t%0D%0AX-Injected%3A%201%0D%0A%0D%0AGET%20%2Fsmuggled%20HTTP%2F1.1%0D%0A%00z";
  EXPECT_EQ(r.target, "/p/" + encoded + "?q=" + encoded);
  EXPECT_EQ(r.body, "f=" + encoded);
  for (const auto& [name, value] : r.headers) {
    EXPECT_FALSE(HasCrLfNul(value)) << name;
  }
  EXPECT_FALSE(HasCrLfNul(r.target));
}

}  // namespace
}  // namespace loadd
