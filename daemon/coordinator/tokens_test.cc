#include "daemon/coordinator/tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "common/plan.h"
#include "daemon/coordinator/auth.h"
#include "daemon/coordinator/reload.h"

namespace loadd {
namespace {

std::string Hash(const std::string& secret) {
  NamedToken t{"x", Role::kViewer, Sha256Of(secret), {}};
  std::string line = FormatTokenLine(t);
  return line.substr(line.find("sha256:"));
}

TEST(ParseTokens, ReadsNamesRolesHashesAndCaps) {
  std::string text = "# comment\n\n  ci-web runner " + Hash("s1") +
                     " max-users=500 max-rate=2k max-runs=1\r\n"
                     "dash\tviewer\t" +
                     Hash("s2") + "\nroot admin " + Hash("s3");  // no final newline
  Result<std::vector<NamedToken>> tokens = ParseTokens(text, "t");
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_EQ(tokens->size(), 3u);
  const NamedToken& ci = (*tokens)[0];
  EXPECT_EQ(ci.name, "ci-web");
  EXPECT_EQ(ci.role, Role::kRunner);
  EXPECT_EQ(ci.digest, Sha256Of("s1"));
  EXPECT_EQ(ci.caps, (TokenCaps{500, 2000, 1}));
  EXPECT_EQ((*tokens)[1].role, Role::kViewer);
  EXPECT_EQ((*tokens)[1].caps, TokenCaps{});
  EXPECT_EQ((*tokens)[2].role, Role::kAdmin);
  // A line written by FormatTokenLine reads back the same.
  Result<std::vector<NamedToken>> again = ParseTokens(FormatTokenLine(ci), "t");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->at(0), ci);
}

TEST(ParseTokens, ErrorsNameTheLine) {
  const std::string h = Hash("s1");
  struct Case {
    std::string text;
    const char* says;
  };
  const Case cases[] = {
      {"a runner\n", "t:1: expected NAME ROLE sha256:HASH"},
      {"\n# x\nb@d runner " + h, "t:3: token name \"b@d\" must be"},
      {"a boss " + h, "t:1: role \"boss\" is not admin, runner or viewer"},
      {"a admin 9f86d081", "t:1: the hash must be sha256: and 64 hex digits"},
      {"a admin sha256:" + std::string(64, 'g'), "t:1: the hash must be"},
      {"a admin sha256:" + std::string(63, 'a'), "t:1: the hash must be"},
      {"a admin " + h + "\nb viewer " + Hash("s2") + "\na viewer " + Hash("s3"),
       "t:3: token name \"a\" is already used on line 1"},
      {"a admin " + h + "\nb viewer " + h, "t:2: the same secret as the token on line 1"},
      {"a admin " + h + " max-users=0", "t:1: cap max-users must be a whole number"},
      {"a admin " + h + " max-users=lots", "t:1: cap max-users must be"},
      {"a admin " + h + " max-users", "t:1: cap max-users has no =VALUE"},
      {"a admin " + h + " max-cpu=1", "t:1: unknown cap \"max-cpu\""},
      {"token-file admin " + h, "t:1: the name \"token-file\" is the --token-file"},
  };
  for (const Case& c : cases) {
    Result<std::vector<NamedToken>> tokens = ParseTokens(c.text, "t");
    ASSERT_FALSE(tokens.ok()) << c.text;
    EXPECT_EQ(tokens.status().path(), "--tokens-file");
    EXPECT_NE(tokens.status().message().find(c.says), std::string::npos)
        << tokens.status().message();
  }
}

TEST(ReadTokensFile, RefusesAFileOthersCanRead) {
  char dir[] = "/tmp/loadd-tokens-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/tokens";
  std::ofstream(path) << "a admin " << Hash("s1") << "\n";
  chmod(path.c_str(), 0644);
  Result<std::vector<NamedToken>> tokens = ReadTokensFile(path, "--tokens-file");
  ASSERT_FALSE(tokens.ok());
  EXPECT_NE(tokens.status().message().find("chmod 600"), std::string::npos);
  chmod(path.c_str(), 0600);
  tokens = ReadTokensFile(path, "--tokens-file");
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  EXPECT_EQ(tokens->size(), 1u);
  unlink(path.c_str());
  rmdir(dir);
}

TEST(BearerAuth, IdentifiesEachNamedToken) {
  BearerAuth auth;
  EXPECT_FALSE(auth.Identify("Bearer anything-at-all-0123").has_value());
  auth.SetTokens({{"root", Role::kAdmin, Sha256Of("secret-root-0123456"), {}},
                  {"ci", Role::kRunner, Sha256Of("secret-ci-0123456"), {10, 0, 2}},
                  {"eye", Role::kViewer, Sha256Of("secret-eye-0123456"), {}}});
  std::optional<TokenIdentity> who = auth.Identify("bearer secret-ci-0123456");
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->name, "ci");
  EXPECT_EQ(who->role, Role::kRunner);
  EXPECT_EQ(who->caps, (TokenCaps{10, 0, 2}));
  EXPECT_EQ(auth.Identify("Bearer secret-root-0123456")->name, "root");
  EXPECT_EQ(auth.Identify("Bearer secret-eye-0123456")->role, Role::kViewer);
  EXPECT_FALSE(auth.Identify("Bearer secret-ci-012345").has_value());
  EXPECT_FALSE(auth.Identify("Basic secret-ci-0123456").has_value());
  EXPECT_TRUE(auth.Check("Bearer secret-eye-0123456"));
  // The single --token-file token is one admin.
  auth.SetToken("only-token-0123456789");
  EXPECT_FALSE(auth.Check("Bearer secret-ci-0123456"));
  who = auth.Identify("Bearer only-token-0123456789");
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->name, kTokenFileName);
  EXPECT_EQ(who->role, Role::kAdmin);
}

TEST(LoadLiveSettings, ReadsTheTokensFileBesideTheTokenFile) {
  char dir[] = "/tmp/loadd-tokens-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string tokens = std::string(dir) + "/tokens";
  std::string token = std::string(dir) + "/token";
  std::ofstream(tokens) << "ci runner " << Hash("secret-ci-0123456") << " max-runs=1\n";
  std::ofstream(token) << "only-token-0123456789\n";
  chmod(tokens.c_str(), 0600);
  chmod(token.c_str(), 0600);
  CoordinatorFlags flags;
  flags.token_file = token;
  flags.tokens_file = tokens;
  Result<LiveSettings> live = LoadLiveSettings(flags);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  std::vector<NamedToken> all = AllTokens(*live);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, kTokenFileName);
  EXPECT_EQ(all[0].role, Role::kAdmin);
  EXPECT_EQ(all[1].name, "ci");
  // Without the single token: --token-file "" is fine with a tokens file...
  flags.token_file = "";
  live = LoadLiveSettings(flags);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(AllTokens(*live).size(), 1u);
  // ...and not without one.
  flags.tokens_file = "";
  EXPECT_EQ(LoadLiveSettings(flags).status().path(), "--token-file");
  // A tokens line with the token file's secret is refused.
  std::ofstream(tokens) << "ci runner " << Hash("only-token-0123456789") << "\n";
  flags.token_file = token;
  flags.tokens_file = tokens;
  live = LoadLiveSettings(flags);
  ASSERT_FALSE(live.ok());
  EXPECT_NE(live.status().message().find("has the --token-file's secret"),
            std::string::npos);

  LiveSettings before, after;
  before.named = {{"a", Role::kViewer, Sha256Of("1"), {}},
                  {"b", Role::kRunner, Sha256Of("2"), {}}};
  after.named = {{"b", Role::kAdmin, Sha256Of("2"), {}},
                 {"c", Role::kViewer, Sha256Of("3"), {}}};
  EXPECT_EQ(
      DescribeLiveChanges(before, after),
      (std::vector<std::string>{"--tokens-file: added c", "--tokens-file: removed a",
                                "--tokens-file: changed b"}));
  unlink(tokens.c_str());
  unlink(token.c_str());
  rmdir(dir);
}

Plan ClosedPlan(int64_t users) {
  Plan plan;
  plan.model = LoadModel::kClosed;
  plan.users = users;
  return plan;
}

TEST(CheckTokenCaps, RefusalsNameTheCapAndPath) {
  TokenIdentity who{"ci", Role::kRunner, {100, 50, 2}};
  EXPECT_TRUE(CheckTokenCaps(ClosedPlan(100), who, 1).ok());
  Status users = CheckTokenCaps(ClosedPlan(101), who, 0);
  EXPECT_EQ(users.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(users.path(), "$.users");
  EXPECT_NE(
      users.message().find("101 users is above the cap max-users=100 of token \"ci\""),
      std::string::npos)
      << users.message();
  Status runs = CheckTokenCaps(ClosedPlan(1), who, 2);
  EXPECT_NE(runs.message().find("max-runs=2"), std::string::npos) << runs.message();

  Plan open;
  open.model = LoadModel::kOpen;
  open.arrival_rate = 60;
  open.max_in_flight = 10;
  Status rate = CheckTokenCaps(open, who, 0);
  EXPECT_EQ(rate.path(), "$.arrival_rate");
  EXPECT_NE(rate.message().find("max-rate=50"), std::string::npos) << rate.message();
  open.arrival_rate = 50;
  EXPECT_TRUE(CheckTokenCaps(open, who, 0).ok());
  open.max_in_flight = 101;
  EXPECT_EQ(CheckTokenCaps(open, who, 0).path(), "$.max_in_flight");

  Plan staged = ClosedPlan(0);
  staged.stages.push_back({});
  staged.stages.back().target = 150;
  Status stage = CheckTokenCaps(staged, who, 0);
  EXPECT_EQ(stage.path(), "$.stages[0].users");
  // No caps: nothing refused.
  EXPECT_TRUE(
      CheckTokenCaps(ClosedPlan(1'000'000), TokenIdentity{"x", Role::kRunner, {}}, 99)
          .ok());
}

}  // namespace
}  // namespace loadd
