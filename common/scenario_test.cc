#include "common/scenario.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/json.h"
#include "common/wire.h"
#include "common/wire_stats.h"

namespace loadd {
namespace {

// Reads `steps` (a JSON array) as the steps of one scenario.
Result<std::vector<Scenario>> ParseSteps(const std::string& steps) {
  rapidjson::Document doc;
  LOADD_RETURN_IF_ERROR(ParseJson(R"([{"steps": )" + steps + "}]", &doc));
  std::vector<Scenario> out;
  LOADD_RETURN_IF_ERROR(ReadScenarios(doc, "http://127.0.0.1:29000", {}, {}, &out));
  return out;
}

// The check names of one step with these checks (a JSON array).
std::vector<std::string> CheckNames(const std::string& checks) {
  Result<std::vector<Scenario>> sc =
      ParseSteps(R"([{"name": "s", "path": "/", "checks": )" + checks + "}]");
  EXPECT_TRUE(sc.ok()) << sc.status().ToString();
  std::vector<std::string> names;
  if (!sc.ok()) return names;
  for (const Check& c : (*sc)[0].steps[0].checks) names.push_back(c.name);
  return names;
}

// True when `name` travels in a binary stats message and comes back whole.
bool Travels(const std::string& name) {
  StatsMsg m;
  m.run_id = "r1";
  m.interval_ms = 1000;
  m.checks.push_back(CheckCount{name, 1, 0});
  Result<StatsMsg> back = DecodeBinaryStats(EncodeBinaryStats(m));
  return back.ok() && back->checks.size() == 1 && back->checks[0].name == name;
}

TEST(ScenarioCheckNameTest, ShortNamesAreKeptWhole) {
  EXPECT_EQ(CheckNames(R"([{"body_contains": "ok"}, {"body_regex": "o+k"},
                           {"status": [200, 204]}, {"json": "/a", "equals": 1},
                           {"header": "X-A", "contains": "b"}, {"latency": "<1s"}])"),
            (std::vector<std::string>{"s: body contains \"ok\"", "s: body matches /o+k/",
                                      "s: status == [200,204]", "s: /a == 1",
                                      "s: header X-A contains \"b\"", "s: latency <1s"}));
}

// Regression: a 2,000-byte body_contains value or body_regex made a check
// name over the stats wire bound, and the coordinator refused every stats
// message of the worker (its requests were missing from the totals).
TEST(ScenarioCheckNameTest, LongValuesGiveNamesWithinTheStatsWireBound) {
  const std::string long_text(2000, 'a');
  // A 2,000-byte pattern that compiles to a small program (one class).
  const std::string long_regex = "[" + std::string(1998, 'a') + "]";
  std::vector<std::string> names =
      CheckNames(R"([{"body_contains": ")" + long_text + R"("}, {"body_regex": ")" +
                 long_regex + R"("}, {"json": "/a", "equals": ")" + long_text +
                 R"("}, {"header": "X-A", "contains": ")" + long_text + R"("}])");
  ASSERT_EQ(names.size(), 4u);
  for (const std::string& name : names) {
    EXPECT_LE(name.size(), kMaxStatsCheckNameBytes) << name;
    EXPECT_TRUE(Travels(name)) << name;
  }
  // The head stays readable, the cut is marked and the closing quote kept.
  EXPECT_EQ(names[0].rfind("s: body contains \"aaaa", 0), 0u) << names[0];
  EXPECT_NE(names[0].find("a\xe2\x80\xa6\" #"), std::string::npos) << names[0];
  EXPECT_EQ(names[1].rfind("s: body matches /[aaaa", 0), 0u) << names[1];
  EXPECT_NE(names[1].find("a\xe2\x80\xa6/ #"), std::string::npos) << names[1];
}

TEST(ScenarioCheckNameTest, LongValuesWithACommonPrefixStayTwoChecks) {
  const std::string prefix(1000, 'p');
  std::vector<std::string> names =
      CheckNames(R"([{"body_contains": ")" + prefix + R"(x"}, {"body_contains": ")" +
                 prefix + R"(y"}, {"body_regex": "[)" + prefix +
                 R"(x]"}, {"body_regex": "[)" + prefix + R"(y]"}])");
  ASSERT_EQ(names.size(), 4u);
  EXPECT_NE(names[0], names[1]);
  EXPECT_NE(names[2], names[3]);
  for (const std::string& name : names) EXPECT_LE(name.size(), kMaxStatsCheckNameBytes);
  // The same plan gives the same names (every worker agrees on them).
  EXPECT_EQ(CheckNames(R"([{"body_contains": ")" + prefix + R"(x"}])")[0], names[0]);
}

// Every worker and the coordinator must agree on a name: its form is fixed
// (FNV-1a of the whole name, as docs/plan.md shows).
TEST(ScenarioCheckNameTest, CutNameIsExactlyAsDocumented) {
  EXPECT_EQ(CheckNames(R"([{"body_contains": ")" + std::string(600, 'a') + R"("}])"),
            std::vector<std::string>{"s: body contains \"" + std::string(472, 'a') +
                                     "\xe2\x80\xa6\" #371a960d81297647"});
}

TEST(ScenarioCheckNameTest, CutIsOnACharacterBoundary) {
  for (const char* ch : {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"}) {  // é € 😀
    for (int extra = 0; extra < 4; ++extra) {
      std::string value = std::string(static_cast<size_t>(extra), 'a');
      for (int i = 0; i < 400; ++i) value += ch;
      std::vector<std::string> names =
          CheckNames(R"([{"body_contains": ")" + value + R"("}])");
      ASSERT_EQ(names.size(), 1u);
      EXPECT_LE(names[0].size(), kMaxStatsCheckNameBytes);
      EXPECT_TRUE(Travels(names[0])) << "valid UTF-8 after the cut, extra " << extra;
    }
  }
}

TEST(ScenarioCheckNameTest, LongHeaderNameAndExtractVariableAreBoundedToo) {
  const std::string long_name(2000, 'h');
  Result<std::vector<Scenario>> sc = ParseSteps(
      R"([{"name": "s", "path": "/", "checks": [{"header": ")" + long_name +
      R"(", "contains": "x"}], "extract": {")" + long_name + R"(": {"header": "h"}}}])");
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  const Step& step = (*sc)[0].steps[0];
  EXPECT_LE(step.checks[0].name.size(), kMaxStatsCheckNameBytes);
  EXPECT_TRUE(Travels(step.checks[0].name));
  EXPECT_EQ(step.extracts[0].check_name.rfind("s: extract hhhh", 0), 0u);
  EXPECT_LE(step.extracts[0].check_name.size(), kMaxStatsCheckNameBytes);
  EXPECT_TRUE(Travels(step.extracts[0].check_name));
  sc = ParseSteps(R"([{"name": "s", "path": "/", "extract": {"tok": {"header": "h"}}}])");
  ASSERT_TRUE(sc.ok());
  EXPECT_EQ((*sc)[0].steps[0].extracts[0].check_name, "s: extract tok");
}

TEST(ScenarioStepNameTest, NamesThatCouldNotTravelAreRefusedOrCut) {
  Result<std::vector<Scenario>> sc = ParseSteps(
      R"([{"path": "/"}, {"name": ")" + std::string(201, 'n') + R"(", "path": "/"}])");
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.status().ToString(),
            "$.scenarios[0].steps[1].name: is longer than 200 bytes");
  EXPECT_TRUE(
      ParseSteps(R"([{"name": ")" + std::string(200, 'n') + R"(", "path": "/"}])").ok());
  // A default name ("GET /path") is cut to the bound.
  sc = ParseSteps(R"([{"path": "/)" + std::string(3000, 'x') + R"("}])");
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  EXPECT_EQ((*sc)[0].steps[0].name, "GET /" + std::string(kMaxStepNameBytes - 5, 'x'));
}

}  // namespace
}  // namespace loadd
