#include "ctl/plan_env.h"

#include <gtest/gtest.h>

#include "common/json.h"

namespace loadd {
namespace {

TEST(ParseEnvFlagTest, SplitsAtTheFirstEqualsSign) {
  struct Case {
    const char* flag;
    const char* key;
    const char* value;
  };
  const Case kCases[] = {
      {"HOST=example.com", "HOST", "example.com"},
      {"EMPTY=", "EMPTY", ""},
      {"QUERY=a=1&b=2", "QUERY", "a=1&b=2"},
      {"_under_score9=x", "_under_score9", "x"},
      {"SPACE= a b ", "SPACE", " a b "},
  };
  for (const Case& c : kCases) {
    Result<std::pair<std::string, std::string>> pair = ParseEnvFlag(c.flag);
    ASSERT_TRUE(pair.ok()) << c.flag << ": " << pair.status().ToString();
    EXPECT_EQ(pair->first, c.key) << c.flag;
    EXPECT_EQ(pair->second, c.value) << c.flag;
  }
}

TEST(ParseEnvFlagTest, BadFormsNameTheFlag) {
  struct Case {
    const char* flag;
    const char* error;
  };
  const Case kCases[] = {
      {"HOST", "--env: \"HOST\" is not KEY=VALUE"},
      {"", "--env: \"\" is not KEY=VALUE"},
      {"=value", "--env: \"\" is not a KEY (a letter or _, then letters, digits or _)"},
      {"1ST=x", "--env: \"1ST\" is not a KEY (a letter or _, then letters, digits or _)"},
      {"A-B=x", "--env: \"A-B\" is not a KEY (a letter or _, then letters, digits or _)"},
      {"A B=x", "--env: \"A B\" is not a KEY (a letter or _, then letters, digits or _)"},
  };
  for (const Case& c : kCases) {
    Result<std::pair<std::string, std::string>> pair = ParseEnvFlag(c.flag);
    ASSERT_FALSE(pair.ok()) << c.flag;
    EXPECT_EQ(pair.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(pair.status().ToString(), c.error);
  }
}

std::string Apply(const char* plan, const std::vector<std::string>& flags,
                  Status* status = nullptr) {
  rapidjson::Document doc;
  EXPECT_TRUE(ParseJson(plan, &doc).ok()) << plan;
  Status applied = ApplyEnvFlags(flags, &doc);
  if (status != nullptr) *status = applied;
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  doc.Accept(w);
  return buf.GetString();
}

TEST(ApplyEnvFlagsTest, FlagsWinAndThePlansOtherKeysStay) {
  struct Case {
    const char* label;
    const char* plan;
    std::vector<std::string> flags;
    const char* want;
  };
  const Case kCases[] = {
      {"no flags: unchanged", R"({"users":1})", {}, R"({"users":1})"},
      {"creates env", R"({"users":1})", {"A=1"}, R"({"users":1,"env":{"A":"1"}})"},
      {"overrides and adds",
       R"({"env":{"A":"plan","B":"keep"}})",
       {"A=flag", "C=new"},
       R"({"env":{"A":"flag","B":"keep","C":"new"}})"},
      {"the later flag wins", R"({})", {"A=1", "A=2"}, R"({"env":{"A":"2"}})"},
      {"a public value stays public",
       R"({"env":{"A":{"value":"plan","public":true}}})",
       {"A=flag"},
       R"({"env":{"A":{"value":"flag","public":true}}})"},
      {"an object without value gets one",
       R"({"env":{"A":{"public":true}}})",
       {"A=flag"},
       R"({"env":{"A":{"public":true,"value":"flag"}}})"},
      {"env not an object: left to ParsePlan",
       R"({"env":[1]})",
       {"A=1"},
       R"({"env":[1]})"},
  };
  for (const Case& c : kCases) {
    Status status;
    EXPECT_EQ(Apply(c.plan, c.flags, &status), c.want) << c.label;
    EXPECT_TRUE(status.ok()) << c.label;
  }
}

TEST(ApplyEnvFlagsTest, ABadFlagChangesNothing) {
  Status status;
  EXPECT_EQ(Apply(R"({"users":1})", {"A=1", "nope"}, &status), R"({"users":1})");
  EXPECT_EQ(status.ToString(), "--env: \"nope\" is not KEY=VALUE");
}

}  // namespace
}  // namespace loadd
