// Absolute http(s) URLs as a load plan uses them.
#ifndef LOADD_COMMON_URL_H_
#define LOADD_COMMON_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace loadd {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // name or address; IPv6 without brackets
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path and query, always starting with '/'

  // "host:port" as sent in the Host header (brackets for IPv6, port omitted
  // when it is the scheme's default).
  std::string HostHeader() const;
  std::string ToString() const;
};

// Accepts only http:// and https:// URLs with a host; rejects user info,
// fragments-only oddities, control characters and spaces.
Result<Url> ParseUrl(std::string_view text);

}  // namespace loadd

#endif  // LOADD_COMMON_URL_H_
