#include "common/url.h"

#include <cstdlib>

namespace loadd {
namespace {

bool IsDefaultPort(const Url& url) {
  return (url.scheme == "http" && url.port == 80) ||
         (url.scheme == "https" && url.port == 443);
}

std::string BracketHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::string Url::HostHeader() const {
  if (IsDefaultPort(*this)) return BracketHost(host);
  return BracketHost(host) + ":" + std::to_string(port);
}

std::string Url::ToString() const { return scheme + "://" + HostHeader() + target; }

Result<Url> ParseUrl(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Status::Invalid("", "URL contains a space or control character");
    }
  }
  Url url;
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return Status::Invalid(
        "", "\"" + std::string(text) +
                "\" is not an absolute URL (expected http://host[:port]/path)");
  }
  std::string scheme(text.substr(0, scheme_end));
  for (char& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") {
    return Status::Invalid(
        "", "scheme \"" + scheme + "\" is not supported (use http:// or https://)");
  }
  url.scheme = scheme;
  std::string_view rest = text.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail =
      authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return Status::Invalid(
        "", "user info in URLs is not supported (use an Authorization header)");
  }
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::Invalid("", "unclosed '[' in host");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':')
        return Status::Invalid("", "unexpected text after ']' in host");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return Status::Invalid("", "URL has no host");
  if (authority[0] != '[' && url.host.find_first_of(":[]") != std::string::npos) {
    return Status::Invalid("", "host \"" + url.host +
                                   "\" has ':', '[' or ']' (IPv6 goes in "
                                   "brackets: http://[::1]:8080/)");
  }
  url.port = scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    char* end = nullptr;
    std::string p(port_text);
    long port = std::strtol(p.c_str(), &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) {
      return Status::Invalid("", "port \"" + p + "\" is not a number from 1 to 65535");
    }
    url.port = static_cast<uint16_t>(port);
  }
  size_t hash = tail.find('#');
  if (hash != std::string_view::npos) tail = tail.substr(0, hash);
  url.target =
      tail.empty() || tail[0] != '/' ? "/" + std::string(tail) : std::string(tail);
  return url;
}

}  // namespace loadd
