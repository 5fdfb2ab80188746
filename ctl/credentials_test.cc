#include "ctl/credentials.h"

#include <gtest/gtest.h>

#include "ctl/test_fakes.h"

namespace loadd {
namespace {

TEST(ResolveCredentialsTest, TokenSourcesInOrder) {
  struct Case {
    const char* name;
    std::string token_file;  // --token-file or LOADD_TOKEN_FILE
    const char* env_token;   // LOADD_TOKEN
    bool default_file;       // /etc/loadd/token exists
    std::string token, source;
  };
  const Case cases[] = {
      {"file first", "/run/t", "from-env-0123456789", true, "from-file-0123456789",
       "token file /run/t"},
      {"then LOADD_TOKEN", "", "  from-env-0123456789\n", true, "from-env-0123456789",
       "LOADD_TOKEN"},
      {"empty LOADD_TOKEN is unset", "", "", true, "from-default-0123456789",
       "token file /etc/loadd/token"},
      {"then the default file", "", nullptr, true, "from-default-0123456789",
       "token file /etc/loadd/token"},
      {"else none", "", nullptr, false, "", ""},
  };
  for (const Case& c : cases) {
    FakeFiles files;
    files.files["/run/t"] = "from-file-0123456789\n";
    if (c.default_file) files.files[kDefaultTokenPath] = "from-default-0123456789\n";
    Result<Credentials> credentials = ResolveCredentials(
        CredentialFlags{c.token_file, "", "", ""}, c.env_token, &files);
    ASSERT_TRUE(credentials.ok()) << c.name << ": " << credentials.status().ToString();
    EXPECT_EQ(credentials->token, c.token) << c.name;
    EXPECT_EQ(credentials->source, c.source) << c.name;
  }
}

TEST(ResolveCredentialsTest, BadTokensAndFilesAreErrors) {
  struct Case {
    const char* name;
    CredentialFlags flags;
    const char* env_token;
    const char* path;
    const char* message;
  };
  const Case cases[] = {
      {"missing token file",
       {"/nope", "", "", ""},
       nullptr,
       "--token-file",
       "/nope: cannot read"},
      {"empty token file",
       {"/empty", "", "", ""},
       nullptr,
       "--token-file",
       "holds no token"},
      {"two words", {"/two", "", "", ""}, nullptr, "--token-file", "holds no token"},
      {"blank LOADD_TOKEN", {}, " \n", "LOADD_TOKEN", "holds no token"},
      {"missing CA file",
       {"", "/ca.pem", "", ""},
       nullptr,
       "--cacert",
       "/ca.pem: no such file"},
      {"missing client certificate",
       {"", "", "/c.pem", "/k.pem"},
       nullptr,
       "--client-cert",
       "/c.pem: no such file (LOADD_CLIENT_CERT names it too)"},
      {"key without certificate",
       {"", "", "", "/key.pem"},
       nullptr,
       "--client-cert",
       "--client-cert and --client-key go together"},
  };
  for (const Case& c : cases) {
    FakeFiles files;
    files.files["/empty"] = " \n";
    files.files["/two"] = "one two\n";
    files.files["/key.pem"] = "key";
    Result<Credentials> credentials = ResolveCredentials(c.flags, c.env_token, &files);
    ASSERT_FALSE(credentials.ok()) << c.name;
    EXPECT_EQ(credentials.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(credentials.status().path(), c.path) << c.name;
    EXPECT_NE(credentials.status().message().find(c.message), std::string::npos)
        << c.name << ": " << credentials.status().message();
  }
}

TEST(ResolveCredentialsTest, KeepsTheTlsFiles) {
  FakeFiles files;
  for (const char* path : {"/ca.pem", "/c.pem", "/k.pem"}) files.files[path] = "PEM";
  Result<Credentials> credentials = ResolveCredentials(
      CredentialFlags{"", "/ca.pem", "/c.pem", "/k.pem"}, nullptr, &files);
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->ca_file, "/ca.pem");
  EXPECT_EQ(credentials->client_cert, "/c.pem");
  EXPECT_EQ(credentials->client_key, "/k.pem");
}

TEST(UnauthorizedHintTest, SaysWhatWasSent) {
  EXPECT_NE(UnauthorizedHint({}).find(
                "loadctl sent no token: give the coordinator's token with "
                "--token-file FILE, LOADD_TOKEN_FILE=FILE or LOADD_TOKEN"),
            std::string::npos);
  EXPECT_NE(
      UnauthorizedHint({"t", "LOADD_TOKEN", "", "", ""})
          .find("loadctl sent the token from LOADD_TOKEN, which the coordinator does not "
                "accept"),
      std::string::npos);
}

}  // namespace
}  // namespace loadd
