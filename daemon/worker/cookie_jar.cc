#include "daemon/worker/cookie_jar.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>

namespace loadd {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  return inet_pton(AF_INET, bare.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, bare.c_str(), buf) == 1;
}

// RFC 6265 5.1.3.
bool DomainMatches(std::string_view host, std::string_view domain, bool host_only) {
  if (host == domain) return true;
  if (host_only || host.size() <= domain.size()) return false;
  return host.substr(host.size() - domain.size()) == domain &&
         host[host.size() - domain.size() - 1] == '.' && !IsIpAddress(std::string(host));
}

// RFC 6265 5.1.4.
bool PathMatches(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  if (request_path.substr(0, cookie_path.size()) != cookie_path) return false;
  return cookie_path.back() == '/' || request_path[cookie_path.size()] == '/';
}

// Max-Age: an optional '-' then digits; anything else is ignored.
bool ParseMaxAge(std::string_view v, int64_t* out) {
  bool negative = !v.empty() && v.front() == '-';
  if (negative) v.remove_prefix(1);
  if (v.empty() || v.size() > 18) return false;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  *out = negative ? -n : n;
  return true;
}

}  // namespace

std::string DefaultCookiePath(std::string_view request_path) {
  if (request_path.empty() || request_path.front() != '/') return "/";
  size_t slash = request_path.rfind('/');
  return slash == 0 ? "/" : std::string(request_path.substr(0, slash));
}

void CookieJar::Set(std::string_view set_cookie, std::string_view host,
                    std::string_view path, int64_t now_unix_s) {
  size_t semi = set_cookie.find(';');
  std::string_view pair = Trim(set_cookie.substr(0, semi));
  size_t eq = pair.find('=');
  if (eq == std::string_view::npos || pair.size() > kMaxCookieBytes) return;
  // Control characters could split the Cookie header we send back.
  for (char ch : pair) {
    if ((static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7f) return;
  }
  Cookie c;
  c.name = std::string(Trim(pair.substr(0, eq)));
  c.value = std::string(Trim(pair.substr(eq + 1)));
  if (c.name.empty()) return;
  c.domain = Lower(host);
  c.path = DefaultCookiePath(path);
  bool has_max_age = false;
  bool expired = false;
  while (semi != std::string_view::npos) {
    set_cookie.remove_prefix(semi + 1);
    semi = set_cookie.find(';');
    std::string_view attr = Trim(set_cookie.substr(0, semi));
    size_t aeq = attr.find('=');
    std::string key = Lower(Trim(attr.substr(0, aeq)));
    std::string_view value =
        aeq == std::string_view::npos ? "" : Trim(attr.substr(aeq + 1));
    if (key == "max-age") {
      int64_t seconds = 0;
      if (!ParseMaxAge(value, &seconds)) continue;
      has_max_age = true;
      expired = seconds <= 0;
      c.expires_unix_s = expired ? 0 : now_unix_s + seconds;
    } else if (key == "expires" && !has_max_age) {
      std::string date(value.substr(0, 64));
      time_t t = curl_getdate(date.c_str(), nullptr);
      if (t == -1) continue;
      expired = t <= now_unix_s;
      c.expires_unix_s = expired ? 0 : static_cast<int64_t>(t);
    } else if (key == "domain" && !value.empty()) {
      if (value.front() == '.') value.remove_prefix(1);
      std::string domain = Lower(value);
      if (domain.empty()) continue;
      if (!DomainMatches(Lower(host), domain, false)) return;  // foreign: ignored
      c.domain = domain;
      c.host_only = domain == Lower(host);
    } else if (key == "path" && !value.empty() && value.front() == '/') {
      c.path = std::string(value);
    } else if (key == "secure") {
      c.secure = true;
    }
  }
  auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const Cookie& old) {
    return old.name == c.name && old.domain == c.domain && old.path == c.path;
  });
  if (expired) {
    if (same != cookies_.end()) cookies_.erase(same);
    return;
  }
  if (same != cookies_.end()) {
    c.order = same->order;  // RFC 6265: keeps the old creation time
    *same = std::move(c);
    return;
  }
  c.order = next_order_++;
  cookies_.push_back(std::move(c));
  if (cookies_.size() <= kMaxCookies) return;
  // Over the bound: drop what has expired, then the oldest.
  cookies_.erase(std::remove_if(cookies_.begin(), cookies_.end(),
                                [&](const Cookie& k) {
                                  return k.expires_unix_s != 0 &&
                                         k.expires_unix_s <= now_unix_s;
                                }),
                 cookies_.end());
  if (cookies_.size() > kMaxCookies) {
    cookies_.erase(std::min_element(
        cookies_.begin(), cookies_.end(),
        [](const Cookie& a, const Cookie& b) { return a.order < b.order; }));
  }
}

std::string CookieJar::HeaderFor(std::string_view host, std::string_view path,
                                 bool secure, int64_t now_unix_s) const {
  std::string lower_host = Lower(host);
  std::vector<const Cookie*> matching;
  for (const Cookie& c : cookies_) {
    if (c.expires_unix_s != 0 && c.expires_unix_s <= now_unix_s) continue;
    if (c.secure && !secure) continue;
    if (!DomainMatches(lower_host, c.domain, c.host_only)) continue;
    if (!PathMatches(path.empty() ? "/" : path, c.path)) continue;
    matching.push_back(&c);
  }
  std::sort(matching.begin(), matching.end(), [](const Cookie* a, const Cookie* b) {
    if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
    return a->order < b->order;
  });
  std::string header;
  for (const Cookie* c : matching) {
    if (!header.empty()) header += "; ";
    header += c->name + "=" + c->value;
  }
  return header;
}

}  // namespace loadd
