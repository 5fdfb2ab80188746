// CookieJar: the cookies one virtual user keeps between requests, as a
// browser (or Locust's HttpUser session, or a k6 VU) does. RFC 6265 storage
// and matching: host-only and Domain cookies, Path, Secure, Max-Age and
// Expires (Max-Age wins), replacement by (name, domain, path), deletion by
// an expiry in the past. Not kept: public-suffix checks (the fleet only
// talks to hosts the operator allowed), SameSite, HttpOnly (no scripts).
//
// Bounded: at most kMaxCookies cookies (the least recently set is dropped)
// and kMaxCookieBytes per name=value pair (longer ones are ignored).
// Time is passed in (seconds since the Unix epoch) so tests need no clock.
// Not thread-safe: one jar per user, on the loop thread.
#ifndef LOADD_DAEMON_WORKER_COOKIE_JAR_H_
#define LOADD_DAEMON_WORKER_COOKIE_JAR_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loadd {

class CookieJar {
 public:
  static constexpr size_t kMaxCookies = 50;
  static constexpr size_t kMaxCookieBytes = 4096;

  // Stores what one Set-Cookie header value says, for a response to a
  // request to `host` (lower case, no port) and `path` (the request path,
  // without query). Malformed or foreign (Domain not covering host) cookies
  // are ignored, as browsers do.
  void Set(std::string_view set_cookie, std::string_view host, std::string_view path,
           int64_t now_unix_s);

  // The Cookie header value for a request ("a=1; b=2", longer paths first),
  // or "" when no cookie applies. `secure`: the request is https.
  std::string HeaderFor(std::string_view host, std::string_view path, bool secure,
                        int64_t now_unix_s) const;

  void Clear() { cookies_.clear(); }
  size_t size() const { return cookies_.size(); }

 private:
  struct Cookie {
    std::string name;
    std::string value;
    std::string domain;  // lower case, no leading dot
    std::string path;
    bool host_only = true;
    bool secure = false;
    int64_t expires_unix_s = 0;  // 0: a session cookie (this run)
    uint64_t order = 0;          // creation order, for the header and eviction
  };

  std::vector<Cookie> cookies_;
  uint64_t next_order_ = 0;
};

// RFC 6265 5.1.4: the default path of a request path ("/a/b" -> "/a").
std::string DefaultCookiePath(std::string_view request_path);

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_COOKIE_JAR_H_
