#include "daemon/coordinator/auth.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace loadd {
namespace {

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/loadd-auth-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& content, mode_t mode) {
    std::string path = dir_ + "/token";
    std::ofstream(path, std::ios::trunc) << content;
    chmod(path.c_str(), mode);
    return path;
  }

  std::string dir_;
};

TEST_F(TokenFileTest, ReadsAndTrims) {
  std::string path = Write("  0123456789abcdef0123\n\n", 0600);
  Result<std::string> token = ReadTokenFile(path, "--token-file");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(*token, "0123456789abcdef0123");
  EXPECT_TRUE(ReadTokenFile(Write("0123456789abcdef", 0400), "--token-file").ok());
}

TEST_F(TokenFileTest, RefusalsSayWhatToDo) {
  struct Case {
    const char* name;
    std::string content;
    mode_t mode;
    const char* expected;  // a part of the message
  };
  const Case cases[] = {
      {"group readable", "0123456789abcdef0123", 0640, "chmod 600 "},
      {"world readable", "0123456789abcdef0123", 0604, "(mode 0604)"},
      {"group writable", "0123456789abcdef0123", 0620, "chmod 600 "},
      {"too short", "0123456789abcde", 0600, "has 15 characters; use at least 16"},
      {"empty", "\n", 0600, "has 0 characters"},
      {"inner space", "0123456789 abcdef0123", 0600, "one word of printable ASCII"},
      {"non-ASCII", "0123456789abcdef\xc3\xa9", 0600, "non-ASCII"},
      {"too large", std::string(5000, 'a'), 0600, "larger than 4096 bytes"},
  };
  for (const Case& c : cases) {
    std::string path = Write(c.content, c.mode);
    Result<std::string> token = ReadTokenFile(path, "--token-file");
    ASSERT_FALSE(token.ok()) << c.name;
    EXPECT_EQ(token.status().path(), "--token-file") << c.name;
    EXPECT_NE(token.status().message().find(c.expected), std::string::npos)
        << c.name << ": " << token.status().message();
    if (c.content.size() < 100) {
      EXPECT_EQ(token.status().message().find(c.content), std::string::npos)
          << c.name << ": the message must not quote the token";
    }
  }
}

TEST_F(TokenFileTest, MissingFileSaysHowToCreateOne) {
  Result<std::string> token = ReadTokenFile(dir_ + "/nope", "--token-file");
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("No such file"), std::string::npos);
  EXPECT_NE(token.status().message().find("loadd keygen > " + dir_ + "/nope"),
            std::string::npos)
      << token.status().message();
  EXPECT_FALSE(ReadTokenFile(dir_, "--token-file").ok())
      << "a directory is no token file";
}

TEST(BearerAuthTest, AcceptsOnlyTheToken) {
  BearerAuth auth;
  EXPECT_FALSE(auth.Check("Bearer anything-at-all-here"))
      << "no token set: nothing passes";
  auth.SetToken("s3cret-token-0123456789");
  struct Case {
    const char* header;
    bool ok;
  };
  const Case cases[] = {
      {"Bearer s3cret-token-0123456789", true},
      {"bearer s3cret-token-0123456789", true},
      {"BEARER s3cret-token-0123456789  ", true},
      {"Bearer s3cret-token-012345678", false},    // a prefix
      {"Bearer s3cret-token-01234567890", false},  // longer
      {"Bearer S3CRET-TOKEN-0123456789", false},   // tokens are case-sensitive
      {"Basic s3cret-token-0123456789", false},
      {"s3cret-token-0123456789", false},
      {"Bearer", false},
      {"Bearer ", false},
      {"", false},
  };
  for (const Case& c : cases) EXPECT_EQ(auth.Check(c.header), c.ok) << c.header;
}

TEST(BearerAuthTest, SetTokenReplacesTheOldOne) {
  BearerAuth auth;
  auth.SetToken("old-token-0123456789");
  auth.SetToken("new-token-0123456789");
  EXPECT_FALSE(auth.Check("Bearer old-token-0123456789"));
  EXPECT_TRUE(auth.Check("Bearer new-token-0123456789"));
}

TEST(LogThrottleTest, OneLinePerIntervalCountingTheRest) {
  FakeClock clock;
  LogThrottle throttle(&clock, 10 * kNsPerSec);
  EXPECT_EQ(throttle.Admit(), 1);
  EXPECT_EQ(throttle.Admit(), 0);
  clock.AdvanceNs(9 * kNsPerSec);
  EXPECT_EQ(throttle.Admit(), 0);
  clock.AdvanceNs(1 * kNsPerSec);
  EXPECT_EQ(throttle.Admit(), 3) << "this one and the two suppressed";
  EXPECT_EQ(throttle.Admit(), 0);
}

}  // namespace
}  // namespace loadd
