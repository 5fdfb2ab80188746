#include "daemon/worker/worker_flags.h"

#include <gtest/gtest.h>

#include <sstream>

namespace loadd {
namespace {

// Parses the way WorkerMain does: the config text first (as CLI11 applies
// a config file), then the flags, which win.
Result<Labels> Parse(std::vector<std::string> argv, const std::string& config = "") {
  CLI::App app;
  std::vector<std::string> args;
  AddLabelFlag(&app, &args);
  std::vector<std::string> rev(argv.rbegin(), argv.rend());
  app.parse(rev);  // CLI11 takes the arguments reversed
  if (!config.empty() && args.empty()) {
    std::istringstream in(config);
    app.parse_from_stream(in);
  }
  return WorkerLabels(args);
}

TEST(WorkerFlagsTest, LabelIsRepeatable) {
  Result<Labels> got = Parse({"--label", "pool=eu", "--label", "rack=r3"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (Labels{{"pool", "eu"}, {"rack", "r3"}}));
}

TEST(WorkerFlagsTest, NoLabelIsNone) {
  Result<Labels> got = Parse({});
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST(WorkerFlagsTest, ConfigKeyLabelTakesOneOrAnArray) {
  Result<Labels> one = Parse({}, "label = \"pool=eu\"\n");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, (Labels{{"pool", "eu"}}));
  Result<Labels> two = Parse({}, "label = [\"pool=eu\", \"git.branch=feature/x\"]\n");
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(*two, (Labels{{"git.branch", "feature/x"}, {"pool", "eu"}}));
}

TEST(WorkerFlagsTest, FlagsReplaceTheConfigFilesLabels) {
  Result<Labels> got =
      Parse({"--label", "pool=us"}, "label = [\"pool=eu\", \"rack=3\"]\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Labels{{"pool", "us"}}));
}

TEST(WorkerFlagsTest, BadLabelsNameTheFlagTheArgumentAndTheFault) {
  struct Case {
    std::vector<std::string> argv;
    std::string want;  // in the message
  };
  const Case cases[] = {
      {{"--label", "pool"}, "\"pool\": must be key=value"},
      {{"--label", "=eu"}, "key must be 1 to 63 bytes"},
      {{"--label", "pool="}, "value must be 1 to 128 bytes"},
      {{"--label", "po ol=eu"}, "not ' '"},
      {{"--label", "-pool=eu"}, "must start with a letter or a digit"},
      {{"--label", "pool=e,u"}, "not ','"},
      {{"--label", "pool=a=b"}, "not '='"},
      {{"--label", "pool=a+b"}, "not '+'"},
      {{"--label", "pool=\x1b[31m"}, "not byte \\x1b"},
      {{"--label", "pool=a", "--label", "pool=b"}, "\"pool\" is given twice"},
      {{"--label", std::string(64, 'k') + "=v"}, "key must be 1 to 63 bytes"},
      {{"--label", "k=" + std::string(129, 'v')}, "value must be 1 to 128 bytes"},
  };
  for (const Case& c : cases) {
    Result<Labels> got = Parse(c.argv);
    ASSERT_FALSE(got.ok()) << c.argv.back();
    std::string msg = got.status().ToString();
    EXPECT_NE(msg.find("--label (config key label)"), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.want), std::string::npos) << msg;
  }
}

TEST(WorkerFlagsTest, AtMostSixteenLabels) {
  std::vector<std::string> argv;
  for (int i = 0; i < 16; ++i)
    argv.insert(argv.end(), {"--label", "k" + std::to_string(i) + "=v"});
  EXPECT_TRUE(Parse(argv).ok());
  argv.insert(argv.end(), {"--label", "k16=v"});
  Result<Labels> got = Parse(argv);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().ToString().find("more than 16 labels"), std::string::npos);
}

}  // namespace
}  // namespace loadd
