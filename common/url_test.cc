#include "common/url.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

TEST(UrlTest, Parses) {
  struct Case {
    const char* text;
    const char* host;
    int port;
    const char* target;
  };
  const Case kCases[] = {
      {"http://example.test", "example.test", 80, "/"},
      {"http://127.0.0.1:8080/a/b?c=d", "127.0.0.1", 8080, "/a/b?c=d"},
      {"https://h", "h", 443, "/"},
      {"HTTP://h:1?q", "h", 1, "/?q"},
      {"http://[::1]:9/x#frag", "::1", 9, "/x"},
  };
  for (const Case& c : kCases) {
    Result<Url> url = ParseUrl(c.text);
    ASSERT_TRUE(url.ok()) << c.text << ": " << url.status().ToString();
    EXPECT_EQ(url->host, c.host) << c.text;
    EXPECT_EQ(url->port, c.port) << c.text;
    EXPECT_EQ(url->target, c.target) << c.text;
  }
}

TEST(UrlTest, Rejects) {
  for (const char* bad :
       {"", "h:80", "ftp://h", "http://", "http://:80", "http://h:0", "http://h:65536",
        "http://h:x", "http://u@h", "http://h/a b", "http://[::1",
        // Fuzz finding: a bare host with ':' or ']' did not round-trip.
        "http://a]::80", "http://::1/", "http://a[b/"}) {
    EXPECT_FALSE(ParseUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace loadd
