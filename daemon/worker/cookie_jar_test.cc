#include "daemon/worker/cookie_jar.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15

struct SetThenAsk {
  const char* what;
  std::vector<const char*> set_cookies;  // all from http://api.example.test/app/login
  const char* host;
  const char* path;
  bool secure;
  const char* want;
};

TEST(CookieJarTest, StoresAndMatchesAsRfc6265) {
  const SetThenAsk cases[] = {
      {"session cookie, default path is the directory",
       {"sid=abc"},
       "api.example.test",
       "/app/me",
       false,
       "sid=abc"},
      {"default path excludes other directories",
       {"sid=abc"},
       "api.example.test",
       "/other",
       false,
       ""},
      {"Path=/ covers everything",
       {"sid=abc; Path=/"},
       "api.example.test",
       "/x/y",
       false,
       "sid=abc"},
      {"path prefix must end at a slash",
       {"a=1; Path=/ap"},
       "api.example.test",
       "/app",
       false,
       ""},
      {"host-only cookie skips subdomains",
       {"a=1; Path=/"},
       "sub.api.example.test",
       "/",
       false,
       ""},
      {"Domain cookie covers subdomains",
       {"a=1; Path=/; Domain=.example.test"},
       "sub.example.test",
       "/",
       false,
       "a=1"},
      {"foreign Domain is ignored",
       {"a=1; Path=/; Domain=evil.test"},
       "evil.test",
       "/",
       false,
       ""},
      {"Secure only over https",
       {"a=1; Path=/; Secure"},
       "api.example.test",
       "/",
       false,
       ""},
      {"Secure over https",
       {"a=1; Path=/; Secure"},
       "api.example.test",
       "/",
       true,
       "a=1"},
      {"same name/domain/path replaces",
       {"a=1; Path=/", "a=2; Path=/"},
       "api.example.test",
       "/",
       false,
       "a=2"},
      {"Max-Age=0 deletes",
       {"a=1; Path=/", "a=; Path=/; Max-Age=0"},
       "api.example.test",
       "/",
       false,
       ""},
      {"Expires in the past deletes",
       {"a=1; Path=/", "a=x; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"},
       "api.example.test",
       "/",
       false,
       ""},
      {"Max-Age wins over Expires",
       {"a=1; Path=/; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT"},
       "api.example.test",
       "/",
       false,
       "a=1"},
      {"longer path first",
       {"a=1; Path=/", "b=2; Path=/app"},
       "api.example.test",
       "/app/x",
       false,
       "b=2; a=1"},
      {"no '=' is ignored", {"garbage; Path=/"}, "api.example.test", "/", false, ""},
      {"control characters are refused",
       {"a=1\x01; Path=/"},
       "api.example.test",
       "/",
       false,
       ""},
      {"attribute names are case-insensitive",
       {"a=1; PATH=/; SECURE"},
       "api.example.test",
       "/",
       true,
       "a=1"},
      {"host case is ignored", {"a=1; Path=/"}, "API.Example.Test", "/", false, "a=1"},
  };
  for (const SetThenAsk& c : cases) {
    CookieJar jar;
    for (const char* sc : c.set_cookies)
      jar.Set(sc, "api.example.test", "/app/login", kNow);
    EXPECT_EQ(jar.HeaderFor(c.host, c.path, c.secure, kNow), c.want) << c.what;
  }
}

TEST(CookieJarTest, ExpiresWithTime) {
  CookieJar jar;
  jar.Set("a=1; Path=/; Max-Age=10", "h", "/", kNow);
  EXPECT_EQ(jar.HeaderFor("h", "/", false, kNow + 9), "a=1");
  EXPECT_EQ(jar.HeaderFor("h", "/", false, kNow + 10), "");
}

TEST(CookieJarTest, IpHostsGetNoDomainCookies) {
  CookieJar jar;
  jar.Set("a=1; Path=/; Domain=0.0.1", "127.0.0.1", "/", kNow);
  EXPECT_EQ(jar.HeaderFor("127.0.0.1", "/", false, kNow), "");
  jar.Set("b=2; Path=/; Domain=127.0.0.1", "127.0.0.1", "/", kNow);
  EXPECT_EQ(jar.HeaderFor("127.0.0.1", "/", false, kNow), "b=2");
}

TEST(CookieJarTest, BoundedCountAndSize) {
  CookieJar jar;
  for (size_t i = 0; i < CookieJar::kMaxCookies + 10; ++i) {
    jar.Set("c" + std::to_string(i) + "=v; Path=/", "h", "/", kNow);
  }
  EXPECT_EQ(jar.size(), CookieJar::kMaxCookies);
  // The oldest went first.
  EXPECT_EQ(jar.HeaderFor("h", "/", false, kNow).find("c0="), std::string::npos);
  jar.Set("big=" + std::string(CookieJar::kMaxCookieBytes, 'x'), "h", "/", kNow);
  EXPECT_EQ(jar.HeaderFor("h", "/", false, kNow).find("big="), std::string::npos);
}

TEST(CookieJarTest, DefaultPath) {
  EXPECT_EQ(DefaultCookiePath("/a/b"), "/a");
  EXPECT_EQ(DefaultCookiePath("/a"), "/");
  EXPECT_EQ(DefaultCookiePath("/"), "/");
  EXPECT_EQ(DefaultCookiePath(""), "/");
}

}  // namespace
}  // namespace loadd
