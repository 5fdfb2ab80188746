// HostAllowList: the operator's --allow-host list, the one rule for which
// targets a run may reach. The coordinator checks every plan host NAME
// against it at admission (daemon/coordinator/limits.h); it sends the list
// to its workers in every assign message, and each worker checks the
// ADDRESS a name resolved to before any socket connects (Engine::AddressFor,
// and libcurl's open-socket callback).
//
// The rule: a target is reached only if
//   1. its host, as written in the plan, is allowed (Allows), and
//   2. the address the worker would connect to lies in an IP or CIDR entry
//      (AllowsAddress) - unless a `name=any` entry matching the host says
//      this name may resolve anywhere (the operator trusts its DNS).
// A name entry alone never allows an address: `*.corp.example` with
// `10.20.0.0/16` reaches names of corp.example that resolve into
// 10.20.0.0/16, and nothing else; `localhost` reaches 127.0.0.0/8 in the
// default list because 127.0.0.0/8 is in it too. So a rebound DNS answer or
// a poisoned hosts file cannot lead an allowed name elsewhere.
#ifndef LOADD_COMMON_HOST_ALLOW_LIST_H_
#define LOADD_COMMON_HOST_ALLOW_LIST_H_

#include <sys/socket.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loadd {

// Entries: exact host names ("api.test"), suffix patterns ("*.example.com":
// any name ending in ".example.com", not example.com itself), IP literals
// ("10.1.2.3", "::1") and CIDR ranges ("10.0.0.0/8", "fd00::/8"); a name or
// suffix entry may end in "=any" ("*.corp.example=any"): names it matches
// may resolve to any address. Names compare case-insensitively, a trailing
// dot ignored. IPv4-mapped IPv6 addresses (::ffff:10.1.2.3) match as IPv4.
// Immutable after Parse; safe to share between threads.
class HostAllowList {
 public:
  // The default: loopback only (127.0.0.0/8, ::1, localhost).
  HostAllowList();
  static std::vector<std::string> DefaultEntries();
  // Errors name `flag` and quote the bad entry.
  static Result<HostAllowList> Parse(const std::vector<std::string>& entries,
                                     const std::string& flag = "--allow-host");

  // Whether a host as written in a plan (name or IP literal) is allowed.
  bool Allows(std::string_view host) const;
  // Whether an address (AF_INET or AF_INET6; the port is ignored) lies in
  // an IP or CIDR entry. Anything else (a short len, another family) is not.
  bool AllowsAddress(const sockaddr* addr, socklen_t len) const;
  // The whole rule for a connection to `addr`, which `host` resolved to:
  // Allows(host), and AllowsAddress(addr) unless a `=any` entry matches host.
  bool AllowsConnect(std::string_view host, const sockaddr* addr, socklen_t len) const;

  // As given, for messages and logs.
  const std::vector<std::string>& entries() const { return entries_; }
  // The first max_items entries, comma separated, for messages.
  std::string Summary(size_t max_items = 10) const;

 private:
  struct Empty {};
  explicit HostAllowList(Empty) {}
  Status Add(const std::string& entry, const std::string& flag);
  bool NameMatches(const std::string& host, bool any_only) const;

  struct Net {
    bool v6 = false;
    std::array<unsigned char, 16> addr{};  // v4 in the first 4 bytes
    int prefix_bits = 0;
  };
  struct Name {
    std::string name;  // lower case, no trailing dot; ".example.com" for a suffix
    bool suffix = false;
    bool resolve_any = false;
  };
  bool NetMatches(bool v6, const std::array<unsigned char, 16>& addr) const;

  std::vector<std::string> entries_;
  std::vector<Name> names_;
  std::vector<Net> nets_;
};

// "10.0.0.1", "::1": an address as text, for messages (the port left out).
std::string AddressText(const sockaddr* addr, socklen_t len);

}  // namespace loadd

#endif  // LOADD_COMMON_HOST_ALLOW_LIST_H_
