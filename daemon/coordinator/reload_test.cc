#include "daemon/coordinator/reload.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace loadd {
namespace {

class CoordinatorConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/loadd-reload-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    token_ = Write("token", "first-token-0123456789\n");
    key_ = Write("fleet.key", std::string(64, 'k'));
    unsetenv("LOADD_TOKEN_FILE");
    unsetenv("LOADD_FLEET_KEY_FILE");
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    unsetenv("LOADD_TOKEN_FILE");
  }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::trunc) << content;
    chmod(path.c_str(), 0600);
    return path;
  }

  // argv for `loadd coordinator --config CONFIG --fleet-key-file KEY extra...`.
  std::vector<std::string> Args(const std::string& config,
                                std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"coordinator", "--config", config,
                                     "--fleet-key-file", key_};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  Result<CoordinatorFlags> Parse(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    CoordinatorFlags flags;
    std::ostringstream out;
    Result<bool> parsed =
        ParseCoordinatorFlags(static_cast<int>(argv.size()), argv.data(), &flags, &out);
    if (!parsed.ok()) return parsed.status();
    return flags;
  }

  std::string dir_, token_, key_;
};

TEST_F(CoordinatorConfigTest, EveryLiveSettingHasAConfigKey) {
  std::string config =
      Write("c.conf", "token-file = \"" + token_ + "\"\n" +
                          "allow-host = [\"10.0.0.0/8\", \"*.test\"]\n"
                          "max-users = 5k\nmax-rate = 200\nmax-duration = 1h\n"
                          "max-data-bytes = 1MiB\nmax-plan-bytes = 128KiB\n"
                          "rest = \"127.0.0.1:9999\"\n");
  Result<CoordinatorFlags> flags = Parse(Args(config));
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  EXPECT_EQ(flags->config_file, config);
  EXPECT_EQ(flags->rest, "127.0.0.1:9999");
  Result<LiveSettings> live = LoadLiveSettings(*flags);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(live->token, "first-token-0123456789");
  EXPECT_EQ(live->limits.max_users, 5000);
  EXPECT_EQ(live->limits.max_rate, 200);
  EXPECT_EQ(live->limits.max_duration_ns, 3600 * kNsPerSec);
  EXPECT_EQ(live->limits.max_data_bytes, size_t{1} << 20);
  EXPECT_EQ(live->limits.max_plan_bytes, size_t{128} << 10);
  EXPECT_TRUE(live->limits.hosts.Allows("a.test"));
  EXPECT_FALSE(live->limits.hosts.Allows("127.0.0.1"))
      << "--allow-host replaces the default";
}

TEST_F(CoordinatorConfigTest, FlagsOverrideEnvironmentOverridesConfig) {
  std::string other = Write("other-token", "other-token-0123456789");
  std::string config =
      Write("c.conf", "token-file = \"" + token_ + "\"\nmax-users = 10\n");
  setenv("LOADD_TOKEN_FILE", other.c_str(), 1);
  Result<CoordinatorFlags> flags = Parse(Args(config, {"--max-users", "20"}));
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  EXPECT_EQ(flags->token_file, other) << "the environment beats the config file";
  EXPECT_EQ(flags->max_users, "20") << "a flag beats the config file";
  flags = Parse(Args(config, {"--token-file", token_}));
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->token_file, token_) << "a flag beats the environment";
}

TEST_F(CoordinatorConfigTest, BadConfigsAreErrors) {
  struct Case {
    const char* name;
    std::vector<std::string> args;
    const char* expected;
  };
  std::string typo = Write("typo.conf", "max-user = 5\n");
  const Case cases[] = {
      {"missing explicit file", Args(dir_ + "/nope.conf"), "nope.conf"},
      {"unknown key", Args(typo), "max-user"},
  };
  for (const Case& c : cases) {
    Result<CoordinatorFlags> flags = Parse(c.args);
    ASSERT_FALSE(flags.ok()) << c.name;
    EXPECT_NE(flags.status().message().find(c.expected), std::string::npos)
        << c.name << ": " << flags.status().message();
  }
}

TEST_F(CoordinatorConfigTest, MissingDefaultConfigIsFine) {
  std::vector<std::string> args = {"coordinator", "--fleet-key-file", key_};
  if (std::filesystem::exists(kDefaultCoordinatorConfig))
    GTEST_SKIP() << "this host has one";
  Result<CoordinatorFlags> flags = Parse(args);
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  EXPECT_EQ(flags->config_file, "");
}

TEST_F(CoordinatorConfigTest, BadValuesNameTheFlag) {
  struct Case {
    const char* flag;
    const char* value;
  };
  const Case cases[] = {{"--max-users", "lots"},       {"--max-users", "0"},
                        {"--max-rate", "-1"},          {"--max-duration", "1y"},
                        {"--max-data-bytes", "9MiB"},  {"--max-plan-bytes", "1k"},
                        {"--allow-host", "10.0.0.1/8"}};
  std::string config = Write("c.conf", "token-file = \"" + token_ + "\"\n");
  for (const Case& c : cases) {
    Result<CoordinatorFlags> flags = Parse(Args(config, {c.flag, c.value}));
    ASSERT_TRUE(flags.ok()) << c.flag;
    Result<LiveSettings> live = LoadLiveSettings(*flags);
    ASSERT_FALSE(live.ok()) << c.flag << " " << c.value;
    EXPECT_EQ(live.status().path(), c.flag) << live.status().ToString();
  }
}

TEST_F(CoordinatorConfigTest, ChangesAreDescribedWithoutTheToken) {
  LiveSettings before{"first-token-0123456789", RunLimits{}};
  LiveSettings after = before;
  after.token = "second-token-0123456789";
  after.limits.max_users = 5;
  after.limits.hosts = *HostAllowList::Parse({"10.0.0.0/8"});
  std::vector<std::string> changes = DescribeLiveChanges(before, after);
  std::vector<std::string> expected = {
      "REST token: changed", "--allow-host: 127.0.0.0/8, ::1, localhost -> 10.0.0.0/8",
      "--max-users: 100000 -> 5"};
  EXPECT_EQ(changes, expected);
  EXPECT_TRUE(DescribeLiveChanges(before, before).empty());
  CoordinatorFlags a, b;
  b.rest = "0.0.0.0:8089";
  b.bus_url = "tcp://0.0.0.0:5557";
  b.max_users = "5";  // live: not a restart-only change
  EXPECT_EQ(RestartOnlyChanges(a, b), (std::vector<std::string>{"--bus", "--rest"}));
}

TEST_F(CoordinatorConfigTest, ReloadAppliesTokenAndLimitsOrChangesNothing) {
  std::string config =
      Write("c.conf", "token-file = \"" + token_ + "\"\nmax-users = 10\n");
  std::vector<std::string> args = Args(config);
  Result<CoordinatorFlags> flags = Parse(args);
  ASSERT_TRUE(flags.ok());
  Result<LiveSettings> live = LoadLiveSettings(*flags);
  ASSERT_TRUE(live.ok());
  BearerAuth auth;
  auth.SetToken(live->token);
  LiveLimits limits(live->limits);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  Reloader reloader(static_cast<int>(argv.size()), argv.data(), *flags, *live,
                    ReloadTargets{&auth, &limits, nullptr, live->limits.MaxBodyBytes()});

  Write("token", "second-token-0123456789");
  Write("c.conf",
        "token-file = \"" + token_ + "\"\nmax-users = 20\nallow-host = [\"*.test\"]\n");
  ASSERT_TRUE(reloader.Reload().ok());
  EXPECT_FALSE(auth.Check("Bearer first-token-0123456789"));
  EXPECT_TRUE(auth.Check("Bearer second-token-0123456789"));
  EXPECT_EQ(limits.Get()->max_users, 20);
  EXPECT_TRUE(limits.Get()->hosts.Allows("x.test"));

  // A broken config file, then a token file others can read: nothing changes.
  Write("c.conf", "token-file = \"" + token_ + "\"\nmax-users = 30\nmax-rate = fast\n");
  EXPECT_FALSE(reloader.Reload().ok());
  Write("c.conf", "token-file = \"" + token_ + "\"\nmax-users = 30\n");
  Write("token", "third-token-0123456789");
  chmod(token_.c_str(), 0644);
  Status failed = reloader.Reload();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("chmod 600"), std::string::npos) << failed.message();
  EXPECT_TRUE(auth.Check("Bearer second-token-0123456789"));
  EXPECT_FALSE(auth.Check("Bearer third-token-0123456789"));
  EXPECT_EQ(limits.Get()->max_users, 20);
}

}  // namespace
}  // namespace loadd
