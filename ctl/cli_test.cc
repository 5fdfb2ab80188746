#include "ctl/cli.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "ctl/curl_api_client.h"
#include "ctl/exit_code.h"

namespace loadd {
namespace {

Result<Invocation> Parse(std::vector<const char*> args, std::string* printed = nullptr) {
  args.insert(args.begin(), "loadctl");
  std::ostringstream out;
  Result<Invocation> result =
      ParseCommandLine(static_cast<int>(args.size()), args.data(), &out);
  if (printed != nullptr) *printed = out.str();
  return result;
}

TEST(ParseCommandLineTest, FillsOptionsFromFlags) {
  Result<Invocation> inv =
      Parse({"start", "plan.json", "-u", "10k", "--spawn-rate", "50", "--duration", "1m",
             "--target", "http://127.0.0.1:9000", "--timeout", "2s", "--name", "smoke",
             "--detach", "--out", "r.json"});
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  ASSERT_NE(inv->command, nullptr);
  EXPECT_STREQ(inv->command->name, "start");
  const Options& o = inv->options;
  EXPECT_EQ(o.plan.plan_file, "plan.json");
  EXPECT_EQ(o.plan.users, "10k");
  EXPECT_EQ(o.plan.spawn_rate, "50");
  EXPECT_EQ(o.plan.duration, "1m");
  EXPECT_EQ(o.plan.target, "http://127.0.0.1:9000");
  EXPECT_EQ(o.plan.timeout, "2s");
  EXPECT_EQ(o.plan.name, "smoke");
  EXPECT_TRUE(o.detach);
  EXPECT_FALSE(o.local);
  EXPECT_EQ(o.out_file, "r.json");
}

TEST(ParseCommandLineTest, EnvIsRepeatableAndTakesOneValueEach) {
  struct Case {
    std::vector<const char*> args;
    const char* plan;
    std::vector<std::string> env;
  };
  const Case kCases[] = {
      {{"start", "--env", "A=1", "plan.json", "--env", "B=x=y"},
       "plan.json",
       {"A=1", "B=x=y"}},
      {{"start", "--env=A=1", "--env", "A=2", "p.json"}, "p.json", {"A=1", "A=2"}},
      // An empty value reaches the parser, which refuses it naming --env.
      {{"start", "--env", "", "p.json"}, "p.json", {""}},
      {{"validate", "p.json", "--env", "HOST=h"}, "p.json", {"HOST=h"}},
  };
  for (const Case& c : kCases) {
    Result<Invocation> inv = Parse(c.args);
    ASSERT_TRUE(inv.ok()) << inv.status().ToString();
    EXPECT_EQ(inv->options.plan.plan_file, c.plan);
    EXPECT_EQ(inv->options.plan.env, c.env);
  }
}

TEST(ParseCommandLineTest, NameAndLabelsGoToThePlanFlags) {
  Result<Invocation> inv = Parse({"start", "--name", "nightly", "--label",
                                  "commit=abc123", "p.json", "--label=branch=main"});
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  EXPECT_EQ(inv->options.plan.plan_file, "p.json");
  EXPECT_EQ(inv->options.plan.name, "nightly");
  EXPECT_EQ(inv->options.plan.labels,
            (std::vector<std::string>{"commit=abc123", "branch=main"}));
}

TEST(ParseCommandLineTest, ResultFilesAndReportFormat) {
  Result<Invocation> inv =
      Parse({"start", "plan.json", "--out", "r.json", "--junit", "junit.xml"});
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  EXPECT_EQ(inv->options.out_file, "r.json");
  EXPECT_EQ(inv->options.junit_file, "junit.xml");
  inv = Parse({"report", "r1", "--format", "csv-history", "-o", "h.csv"});
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  EXPECT_EQ(inv->options.run_id, "r1");
  EXPECT_EQ(inv->options.format, "csv-history");
  EXPECT_EQ(inv->options.output_file, "h.csv");
}

TEST(ParseCommandLineTest, GlobalFlagsGoBeforeOrAfterTheCommand) {
  for (auto args :
       {std::vector<const char*>{"--coordinator", "http://c:1", "--json", "runs"},
        std::vector<const char*>{"runs", "--json", "--coordinator", "http://c:1"}}) {
    Result<Invocation> inv = Parse(args);
    ASSERT_TRUE(inv.ok()) << inv.status().ToString();
    EXPECT_STREQ(inv->command->name, "runs");
    EXPECT_TRUE(inv->options.json);
    EXPECT_EQ(inv->options.coordinator, "http://c:1");
  }
}

TEST(ParseCommandLineTest, BadCommandLinesAreInvalidInput) {
  const std::vector<std::vector<const char*>> kCases = {
      {},                                            // no command
      {"launch"},                                    // unknown command
      {"start", "--users"},                          // flag without its value
      {"start", "--env"},                            // likewise
      {"start", "--bogus"},                          // unknown flag
      {"report"},                                    // RUN is required
      {"validate"},                                  // PLAN is required
      {"status", "r1", "r2"},                        // one RUN at most
      {"compare", "r1"},                             // CANDIDATE is required
      {"compare", "r1", "r2", "--min-change", "x"},  // not a number
  };
  for (const auto& args : kCases) {
    Result<Invocation> inv = Parse(args);
    ASSERT_FALSE(inv.ok()) << (args.empty() ? "(none)" : args[0]);
    EXPECT_EQ(ExitCodeFor(inv.status()), kExitInvalidInput);
    EXPECT_NE(inv.status().message().find("loadctl --help"), std::string::npos);
  }
}

TEST(ParseCommandLineTest, HelpIsPrintedAndSucceeds) {
  std::string printed;
  Result<Invocation> inv = Parse({"--help"}, &printed);
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->command, nullptr);
  EXPECT_NE(printed.find("validate"), std::string::npos);
  inv = Parse({"start", "--help"}, &printed);
  ASSERT_TRUE(inv.ok());
  EXPECT_NE(printed.find("--spawn-rate"), std::string::npos);
}

TEST(ResolveCoordinatorUrlTest, FlagThenEnvironmentThenDefault) {
  struct Case {
    const char* flag;
    const char* env;
    const char* url;  // null: an error naming `path`
    const char* path;
  };
  const Case kCases[] = {
      {"", nullptr, "http://127.0.0.1:8089", ""},
      {"", "", "http://127.0.0.1:8089", ""},
      {"", "http://env:1", "http://env:1", ""},
      {"http://flag:2/", "http://env:1", "http://flag:2", ""},
      {"flag:3", nullptr, "http://flag:3", ""},
      {"https://secure", nullptr, "https://secure", ""},
      {"ftp://x", nullptr, nullptr, "--coordinator"},
      {"", "tcp://x:5557", nullptr, "LOADD_COORDINATOR"},
      {"http://", nullptr, nullptr, "--coordinator"},
      {"http://h:1/?x", nullptr, nullptr, "--coordinator"},
  };
  for (const Case& c : kCases) {
    Result<std::string> url = ResolveCoordinatorUrl(c.flag, c.env);
    if (c.url != nullptr) {
      ASSERT_TRUE(url.ok()) << c.flag << " " << url.status().ToString();
      EXPECT_EQ(*url, c.url);
    } else {
      ASSERT_FALSE(url.ok()) << c.flag;
      EXPECT_EQ(url.status().path(), c.path);
    }
  }
}

}  // namespace
}  // namespace loadd
