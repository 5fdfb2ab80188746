#include "common/body_regex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "common/plan.h"

namespace loadd {
namespace {

struct CompileCase {
  std::string pattern;
  const char* message;  // nullptr: compiles
};

TEST(BodyRegexTest, CompileRefusesWhatRe2CannotRunAndSaysWhy) {
  const CompileCase kCases[] = {
      {R"re("token":"(.*)")re", nullptr},
      {R"(id=(\d+))", nullptr},
      {R"((?i)<title>(.*?)</title>)", nullptr},
      {R"((?P<id>\d+))", nullptr},
      {"(.|\\n)*Z", nullptr},
      {"\\pL{10}", nullptr},  // small in byte (Latin-1) mode
      {"x{400}", nullptr},
      {"x{1000}", "compiles to 1004 instructions, more than 1000"},
      {"(", "missing ): ("},
      {"a)", "unexpected ): a)"},
      {"[a-", "missing ]: [a-"},
      {"*a", "no argument for repetition operator: *"},
      {"a**", "bad repetition operator: **"},
      {"(a)\\1", "invalid escape sequence: \\1 (RE2 has no backreferences)"},
      {"(?=x)", "invalid perl operator: (?= (RE2 has no lookahead, lookbehind"},
      {"(?<=x)y", "invalid perl operator: (?< (RE2 has no lookahead, lookbehind"},
      {"(?<!x)y", "invalid perl operator: (?< (RE2 has no lookahead, lookbehind"},
      {"(?!x)", "(RE2 has no lookahead, lookbehind or atomic groups)"},
      {"(?>a)", "invalid perl operator: (?> (RE2 has no lookahead, lookbehind or atomic"},
      {"a*+", "bad repetition operator: *+"},
      {"a\\Z", "invalid escape sequence: \\Z"},
      {"x{1001}", "invalid repetition size: {1001}"},
      {"\\8", "invalid escape sequence: \\8 (RE2 has no backreferences)"},
      {"(?s).{999}x{999}", "instructions, more than 1000"},
      {"x{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}", "bad repetition operator: {2}{2}"},
      {std::string(4097, 'a'), "longer than 4096 bytes"},
  };
  for (const CompileCase& c : kCases) {
    Result<std::shared_ptr<const BodyRegex>> re = BodyRegex::Compile(c.pattern);
    if (c.message == nullptr) {
      EXPECT_TRUE(re.ok()) << c.pattern << ": " << re.status().ToString();
      continue;
    }
    ASSERT_FALSE(re.ok()) << c.pattern;
    EXPECT_EQ(re.status().path(), "") << "callers add the JSON path";
    EXPECT_NE(re.status().message().find("bad regex"), std::string::npos)
        << re.status().message();
    EXPECT_NE(re.status().message().find(c.message), std::string::npos)
        << c.pattern << " gave: " << re.status().message();
  }
}

struct MatchCase {
  const char* name;
  std::string pattern;
  std::string body;
  size_t max_bytes;
  bool matches;
  std::string value;  // Extract's value when it matches
};

TEST(BodyRegexTest, MatchesAndExtractsByteWiseWithinTheBound) {
  const size_t kAll = 1 << 20;
  const MatchCase kCases[] = {
      {"first group", R"re("token":"(.*)")re", R"({"token":"abc"})", kAll, true, "abc"},
      {"first of two groups", R"((\w+)=(\d+))", "x a=1 b=2", kAll, true, "a"},
      {"no group: whole match", R"(\d+)", "id 42 and 7", kAll, true, "42"},
      {"non-capturing group: whole", "(?:ab)+", "xababx", kAll, true, "abab"},
      {"group that took no part", "(a)?b", "xb", kAll, true, ""},
      {"leftmost-first like Perl", "(a|ab)", "ab", kAll, true, "a"},
      {"lazy", "<(.+?)>", "<a><b>", kAll, true, "a"},
      {"case-insensitive", "(?i)HELLO (w)", "hello world", kAll, true, "w"},
      {"no match", R"(id=(\d+))", "id=x", kAll, false, ""},
      {"dot stops at newline", "a.b", "a\nb", kAll, false, ""},
      {"(?s) dot takes newline", "(?s)a(.)b", "a\nb", kAll, true, "\n"},
      {"^ is the body's start", "^b", "ab", kAll, false, ""},
      {"(?m) ^ after a newline", "(?m)^(b)", "a\nb", kAll, true, "b"},
      {"bytes that are not UTF-8", R"re("t":"(.*)")re", "{\"t\":\"a\xff\xfe b\"}", kAll,
       true, "a\xff\xfe b"},
      {"UTF-8 literal", "caf\xc3\xa9 (\\w+)", "un caf\xc3\xa9 noir", kAll, true, "noir"},
      {"NUL bytes in the body", "a(.)c", std::string("xa\0c", 4), kAll, true,
       std::string(1, '\0')},
      {"within the bound", "Z", "aaaZ", 4, true, "Z"},
      {"past the bound", "Z", "aaaZ", 3, false, ""},
      {"match must end within the bound", "aZ", "aaaZ", 3, false, ""},
      {"$ is not the cut", "a$", "aaaZ", 3, false, ""},
      {"$ is the body's end", "Z$", "aaaZ", 4, true, "Z"},
      {"bound larger than the body", "Z$", "aaaZ", 100, true, "Z"},
      {"empty body", "^$", "", kAll, true, ""},
  };
  for (const MatchCase& c : kCases) {
    SCOPED_TRACE(c.name);
    Result<std::shared_ptr<const BodyRegex>> re = BodyRegex::Compile(c.pattern);
    ASSERT_TRUE(re.ok()) << re.status().ToString();
    EXPECT_EQ((*re)->Matches(c.body, c.max_bytes), c.matches);
    std::string value = "untouched";
    EXPECT_EQ((*re)->Extract(c.body, c.max_bytes, &value), c.matches);
    EXPECT_EQ(value, c.matches ? c.value : "untouched");
  }
}

// The bodies of issue 14: std::regex overflowed the stack on each of these
// (it recursed once per character) and took every worker down.
TEST(BodyRegexTest, PathologicalMebibyteBodiesComplete) {
  std::string lines;  // 1 MiB of 63-byte lines, no 'Z'
  while (lines.size() < (1u << 20)) lines += std::string(62, 'a') + "\n";
  lines.resize(1 << 20);
  std::string token_line =
      "{\"token\":\"" + std::string((1 << 20) - 13, 'x') + "\"}";  // one 1 MiB line
  struct Case {
    const char* pattern;
    const std::string* body;
    bool matches;
    size_t value_bytes;
  };
  std::string lines_z = lines;
  lines_z.back() = 'Z';
  const Case kCases[] = {
      {"(.|\\n)*Z", &lines, false, 0},
      {"(.|\\n)*Z", &lines_z, true, 1},  // the group's last repetition
      {R"re("token":"(.*)")re", &token_line, true, (1 << 20) - 13},
      {R"((\w+\s*)*$)", &lines, true, 0},
      {"((a+)+)+b", &lines, false, 0},
      {"(a|aa)*c", &lines, false, 0},
      {"(?s)(.*)(.*)(.*)(.*)Z", &lines, false, 0},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.pattern);
    Result<std::shared_ptr<const BodyRegex>> re = BodyRegex::Compile(c.pattern);
    ASSERT_TRUE(re.ok()) << re.status().ToString();
    auto start = std::chrono::steady_clock::now();
    std::string value;
    EXPECT_EQ((*re)->Extract(*c.body, 1 << 20, &value), c.matches);
    if (c.value_bytes > 0) {
      EXPECT_EQ(value.size(), c.value_bytes);
    }
    EXPECT_EQ((*re)->Matches(*c.body, 1 << 20), c.matches);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Linear time: milliseconds here; the bound is loose for sanitizer builds.
    EXPECT_LT(seconds, 20.0);
  }
}

std::string PlanWithSteps(const std::string& steps, const std::string& more = "") {
  return R"({"target": "http://127.0.0.1:1", "users": 1)" + more +
         R"(, "scenarios": [{"steps": [)" + steps + "]}]}";
}

TEST(BodyRegexTest, PlanErrorsNameThePatternsJsonPath) {
  struct Case {
    std::string json;
    const char* path;
    const char* message;
  };
  std::string many_checks;
  for (int i = 0; i < 32; ++i) {
    many_checks +=
        std::string(i ? ", " : "") + R"({"body_regex": "a)" + std::to_string(i) + R"("})";
  }
  std::string many_steps;  // 4 steps of 32 regex checks, then one more
  for (int i = 0; i < 4; ++i) {
    many_steps += R"({"path": "/", "checks": [)" + many_checks + "]}, ";
  }
  const Case kCases[] = {
      {PlanWithSteps(
           R"j({"path": "/"}, {"path": "/", "extract": {"tok": {"regex": "("}}})j"),
       "$.scenarios[0].steps[1].extract.tok.regex",
       "bad regex (RE2 syntax): missing ): ("},
      {PlanWithSteps(
           R"j({"path": "/", "checks": [{"status": 200}, {"body_regex": "a\\1"}]})j"),
       "$.scenarios[0].steps[0].checks[1].body_regex", "no backreferences"},
      {PlanWithSteps(R"j({"path": "/", "extract": {"ab": {"regex": "(?=x)"}}})j"),
       "$.scenarios[0].steps[0].extract.ab.regex", "lookahead"},
      {PlanWithSteps(
           R"j({"path": "/", "checks": [{"body_regex": "(?s).{999}x{999}"}]})j"),
       "$.scenarios[0].steps[0].checks[0].body_regex", "instructions"},
      {PlanWithSteps(many_steps + R"j({"path": "/", "extract": {"t": {"regex": "x"}}})j"),
       "$.scenarios[0].steps[4].extract.t.regex", "at most 128 regular expressions"},
      {PlanWithSteps(many_steps + R"j({"path": "/", "checks": [{"body_regex": "x"}]})j"),
       "$.scenarios[0].steps[4].checks[0].body_regex", "at most 128"},
      {PlanWithSteps(R"j({"path": "/"})j", R"j(, "regex_max_bytes": 0)j"),
       "$.regex_max_bytes", "1 byte to 1 MiB"},
      {PlanWithSteps(R"j({"path": "/"})j", R"j(, "regex_max_bytes": "2MiB")j"),
       "$.regex_max_bytes", "1 byte to 1 MiB"},
      {PlanWithSteps(R"j({"path": "/"})j", R"j(, "regex_max_bytes": "lots")j"),
       "$.regex_max_bytes", "not a size"},
      {PlanWithSteps(R"j({"path": "/"})j", R"j(, "regex_max_bytes": true)j"),
       "$.regex_max_bytes", "must be a size"},
  };
  for (const Case& c : kCases) {
    Result<Plan> plan = ParsePlan(c.json);
    ASSERT_FALSE(plan.ok()) << c.path;
    EXPECT_EQ(plan.status().path(), c.path) << plan.status().ToString();
    EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
        << plan.status().ToString();
  }
  // Exactly 128 patterns are accepted.
  Result<Plan> full = ParsePlan(PlanWithSteps(many_steps + R"j({"path": "/"})j"));
  EXPECT_TRUE(full.ok()) << full.status().ToString();
}

TEST(BodyRegexTest, RegexMaxBytesDefaultsToOneMebibyteAndRoundTrips) {
  Result<Plan> plan = ParsePlan(
      PlanWithSteps(R"j({"path": "/", "extract": {"t": {"regex": "id=(\\d+)"}}})j"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->regex_max_bytes, 1 << 20);
  EXPECT_EQ(PlanToJson(*plan).find("regex_max_bytes"), std::string::npos);
  ASSERT_NE(plan->scenarios[0].steps[0].extracts[0].regex, nullptr);
  EXPECT_EQ(plan->scenarios[0].steps[0].extracts[0].regex->pattern(), "id=(\\d+)");

  for (const char* given : {"\"64KiB\"", "65536", "\"64k\""}) {
    Result<Plan> small = ParsePlan(PlanWithSteps(
        R"j({"path": "/"})j", R"j(, "regex_max_bytes": )j" + std::string(given)));
    ASSERT_TRUE(small.ok()) << small.status().ToString();
    EXPECT_EQ(small->regex_max_bytes, 65536) << given;
    Result<Plan> again = ParsePlan(PlanToJson(*small));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->regex_max_bytes, 65536);
  }
}

}  // namespace
}  // namespace loadd
