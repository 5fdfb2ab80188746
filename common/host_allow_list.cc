#include "common/host_allow_list.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

namespace loadd {
namespace {

constexpr std::string_view kResolveAny = "=any";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Lower case, brackets and one trailing dot removed: how hosts compare.
std::string NormalizeHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return Lower(host);
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes IPv4 in place.
void UnmapV4(bool* v6, std::array<unsigned char, 16>* addr) {
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!*v6 || !std::equal(kMapped, kMapped + 12, addr->begin())) return;
  std::copy(addr->begin() + 12, addr->end(), addr->begin());
  std::fill(addr->begin() + 4, addr->end(), 0);
  *v6 = false;
}

// Parses an IP literal; an IPv4-mapped IPv6 address comes back as IPv4.
bool ParseIp(const std::string& text, bool* v6, std::array<unsigned char, 16>* addr) {
  addr->fill(0);
  if (inet_pton(AF_INET, text.c_str(), addr->data()) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), addr->data()) != 1) return false;
  *v6 = true;
  UnmapV4(v6, addr);
  return true;
}

bool PrefixMatches(const std::array<unsigned char, 16>& a,
                   const std::array<unsigned char, 16>& b, int bits) {
  int full = bits / 8;
  if (!std::equal(a.begin(), a.begin() + full, b.begin())) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

// The address of a sockaddr as in ParseIp; false for anything but a
// complete AF_INET or AF_INET6 address.
bool FromSockaddr(const sockaddr* sa, socklen_t len, bool* v6,
                  std::array<unsigned char, 16>* addr) {
  addr->fill(0);
  if (sa == nullptr) return false;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(addr->data(), &in->sin_addr, 4);
    *v6 = false;
    return true;
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(addr->data(), &in6->sin6_addr, 16);
    *v6 = true;
    UnmapV4(v6, addr);
    return true;
  }
  return false;
}

}  // namespace

std::string AddressText(const sockaddr* sa, socklen_t len) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa != nullptr && sa->sa_family == AF_INET &&
      len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf,
              sizeof buf);
  } else if (sa != nullptr && sa->sa_family == AF_INET6 &&
             len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf,
              sizeof buf);
  } else {
    return "(an address of family " + std::to_string(sa ? sa->sa_family : -1) + ")";
  }
  return buf;
}

HostAllowList::HostAllowList() : HostAllowList(Empty{}) {
  for (const std::string& entry : DefaultEntries()) (void)Add(entry, "");
}

std::vector<std::string> HostAllowList::DefaultEntries() {
  return {"127.0.0.0/8", "::1", "localhost"};
}

Result<HostAllowList> HostAllowList::Parse(const std::vector<std::string>& entries,
                                           const std::string& flag) {
  HostAllowList list{Empty{}};
  for (const std::string& entry : entries) LOADD_RETURN_IF_ERROR(list.Add(entry, flag));
  return list;
}

Status HostAllowList::Add(const std::string& raw, const std::string& flag) {
  std::string entry = Lower(raw);
  auto bad = [&](const std::string& why) {
    return Status::Invalid(flag, "\"" + raw + "\" " + why +
                                     " (expected a host name, *.domain, an IP address "
                                     "or a CIDR range such as 10.0.0.0/8; a name or "
                                     "*.domain may end in =any)");
  };
  bool resolve_any = entry.size() > kResolveAny.size() && entry.ends_with(kResolveAny);
  if (resolve_any) entry.resize(entry.size() - kResolveAny.size());
  entry = NormalizeHost(entry);
  if (entry.empty()) return bad("is empty");
  size_t slash = entry.find('/');
  Net net;
  if (slash != std::string::npos) {
    if (resolve_any) return bad("is an IP range: =any goes with names only");
    std::string bits_text = entry.substr(slash + 1);
    if (!ParseIp(entry.substr(0, slash), &net.v6, &net.addr))
      return bad("is not an IP range");
    bool mapped = !net.v6 && entry.find(':') != std::string::npos;
    int max_bits = net.v6 ? 128 : 32;
    char* end = nullptr;
    long bits = std::strtol(bits_text.c_str(), &end, 10);
    if (bits_text.empty() || *end != '\0' || bits < (mapped ? 96 : 0) ||
        bits > (mapped ? 128 : max_bits)) {
      return bad("has a prefix length outside 0.." + std::to_string(max_bits));
    }
    net.prefix_bits = static_cast<int>(mapped ? bits - 96 : bits);
    std::array<unsigned char, 16> masked{};
    for (int i = 0; i < 16; ++i) {
      int keep = std::clamp(net.prefix_bits - 8 * i, 0, 8);
      masked[i] = static_cast<unsigned char>(net.addr[i] & (0xff << (8 - keep)));
    }
    if (masked != net.addr) return bad("has address bits set beyond its prefix length");
  } else if (ParseIp(entry, &net.v6, &net.addr)) {
    if (resolve_any) return bad("is an IP address: =any goes with names only");
    net.prefix_bits = net.v6 ? 128 : 32;
  } else {
    bool suffix = entry.rfind("*.", 0) == 0;
    std::string name = suffix ? entry.substr(1) : entry;  // ".example.com"
    if (name.find('*') != std::string::npos) return bad("may only start with *.");
    if (name.find("..") != std::string::npos || name == ".")
      return bad("has an empty label");
    if (!std::all_of(name.begin(), name.end(), IsNameChar))
      return bad("is not a host name");
    names_.push_back(Name{name, suffix, resolve_any});
    entries_.push_back(raw);
    return Status::Ok();
  }
  nets_.push_back(net);
  entries_.push_back(raw);
  return Status::Ok();
}

bool HostAllowList::NetMatches(bool v6, const std::array<unsigned char, 16>& addr) const {
  return std::any_of(nets_.begin(), nets_.end(), [&](const Net& net) {
    return net.v6 == v6 && PrefixMatches(net.addr, addr, net.prefix_bits);
  });
}

bool HostAllowList::NameMatches(const std::string& host, bool any_only) const {
  return std::any_of(names_.begin(), names_.end(), [&](const Name& n) {
    if (any_only && !n.resolve_any) return false;
    return n.suffix ? host.size() > n.name.size() && host.ends_with(n.name)
                    : host == n.name;
  });
}

bool HostAllowList::Allows(std::string_view host_text) const {
  std::string host = NormalizeHost(host_text);
  if (host.empty()) return false;
  bool v6 = false;
  std::array<unsigned char, 16> addr;
  if (ParseIp(host, &v6, &addr)) return NetMatches(v6, addr);
  return NameMatches(host, /*any_only=*/false);
}

bool HostAllowList::AllowsAddress(const sockaddr* sa, socklen_t len) const {
  bool v6 = false;
  std::array<unsigned char, 16> addr;
  return FromSockaddr(sa, len, &v6, &addr) && NetMatches(v6, addr);
}

bool HostAllowList::AllowsConnect(std::string_view host_text, const sockaddr* sa,
                                  socklen_t len) const {
  if (!Allows(host_text)) return false;
  if (AllowsAddress(sa, len)) return true;
  bool v6 = false;
  std::array<unsigned char, 16> addr;
  return FromSockaddr(sa, len, &v6, &addr) &&
         NameMatches(NormalizeHost(host_text), /*any_only=*/true);
}

std::string HostAllowList::Summary(size_t max_items) const {
  std::string out;
  for (size_t i = 0; i < entries_.size() && i < max_items; ++i)
    out += (i ? ", " : "") + entries_[i];
  if (entries_.size() > max_items)
    out += ", ... (" + std::to_string(entries_.size()) + " in all)";
  return out.empty() ? "nothing" : out;
}

}  // namespace loadd
