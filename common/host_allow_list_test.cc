#include "common/host_allow_list.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace loadd {
namespace {

// ip:port as a sockaddr (IPv4 or IPv6 literal).
struct Addr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

Addr MakeAddr(const char* ip, int port = 80) {
  Addr a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    a.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    a.len = sizeof(sockaddr_in6);
  } else {
    ADD_FAILURE() << "not an IP literal: " << ip;
  }
  return a;
}

TEST(HostAllowListAddressTest, MatchesIpAndCidrEntriesOnly) {
  Result<HostAllowList> list =
      HostAllowList::Parse({"api.test", "*.corp.example", "10.20.0.0/16", "192.168.1.7",
                            "fd00::/8", "::ffff:172.16.0.0/108", "2001:db8::1"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  struct Case {
    const char* ip;
    bool allowed;
  };
  const Case cases[] = {
      {"10.20.0.1", true},
      {"10.20.255.255", true},
      {"10.21.0.1", false},
      {"10.19.255.255", false},
      {"192.168.1.7", true},
      {"192.168.1.8", false},
      {"172.16.0.1", true},
      {"172.31.255.255", true},  // the mapped /108 is a v4 /12
      {"172.32.0.1", false},
      {"::ffff:10.20.3.4", true},  // v4-mapped v6 is v4
      {"::ffff:10.21.3.4", false},
      {"fd12:3456::1", true},
      {"fe80::1", false},
      {"2001:db8::1", true},
      {"2001:db8::2", false},
      {"127.0.0.1", false},  // loopback only when listed
      {"::1", false},
      {"0.0.0.0", false},
  };
  for (const Case& c : cases) {
    Addr a = MakeAddr(c.ip, 443);
    EXPECT_EQ(list->AllowsAddress(a.sa(), a.len), c.allowed) << c.ip;
  }
}

TEST(HostAllowListAddressTest, DefaultAllowsLoopbackAddressesOnly) {
  HostAllowList list;
  for (const char* ip : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"}) {
    Addr a = MakeAddr(ip);
    EXPECT_TRUE(list.AllowsAddress(a.sa(), a.len)) << ip;
  }
  for (const char* ip : {"10.0.0.1", "128.0.0.1", "::2", "169.254.169.254", "::"}) {
    Addr a = MakeAddr(ip);
    EXPECT_FALSE(list.AllowsAddress(a.sa(), a.len)) << ip;
  }
}

TEST(HostAllowListAddressTest, RefusesMalformedSockaddrs) {
  HostAllowList list;
  Addr a = MakeAddr("127.0.0.1");
  EXPECT_FALSE(list.AllowsAddress(nullptr, 0));
  EXPECT_FALSE(list.AllowsAddress(a.sa(), a.len - 1));  // short
  Addr b = MakeAddr("::1");
  EXPECT_FALSE(list.AllowsAddress(b.sa(), sizeof(sockaddr_in)));  // short for v6
  sockaddr_storage unix_addr{};
  unix_addr.ss_family = AF_UNIX;
  EXPECT_FALSE(list.AllowsAddress(reinterpret_cast<const sockaddr*>(&unix_addr),
                                  sizeof unix_addr));
}

// The rule: the name allowed AND the address in an IP/CIDR entry, unless a
// =any entry matches the name.
TEST(HostAllowListAddressTest, ConnectNeedsNameAndAddressUnlessResolveAny) {
  Result<HostAllowList> list =
      HostAllowList::Parse({"localhost", "127.0.0.0/8", "api.test", "*.corp.example",
                            "10.20.0.0/16", "trusted.test=any", "*.cdn.example=ANY"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  struct Case {
    const char* host;
    const char* ip;
    bool allowed;
  };
  const Case cases[] = {
      {"localhost", "127.0.0.1", true},
      {"localhost", "10.0.0.1", false},  // a poisoned hosts file
      {"api.test", "10.20.1.1", true},
      {"api.test", "10.0.0.1", false},  // DNS rebinding to another network
      {"API.test.", "127.0.0.1", true},
      {"a.corp.example", "10.20.9.9", true},
      {"a.corp.example", "192.168.0.1", false},
      {"other.test", "127.0.0.1", false},  // the name itself is not allowed
      {"trusted.test", "10.0.0.1", true},  // =any: resolves anywhere
      {"trusted.test", "2001:db8::1", true},
      {"x.trusted.test", "10.0.0.1", false},
      {"www.cdn.example", "203.0.113.5", true},
      {"cdn.example", "203.0.113.5", false},
      {"10.20.3.3", "10.20.3.3", true},  // an IP literal resolves to itself
      {"10.0.0.1", "10.0.0.1", false},
  };
  for (const Case& c : cases) {
    Addr a = MakeAddr(c.ip);
    EXPECT_EQ(list->AllowsConnect(c.host, a.sa(), a.len), c.allowed)
        << c.host << " -> " << c.ip;
  }
  // =any entries allow their names at admission like plain name entries.
  EXPECT_TRUE(list->Allows("trusted.test"));
  EXPECT_TRUE(list->Allows("www.cdn.example"));
}

TEST(HostAllowListAddressTest, ResolveAnyGoesWithNamesOnly) {
  for (const char* entry : {"10.0.0.0/8=any", "10.0.0.1=any", "::1=any", "=any"}) {
    Result<HostAllowList> list = HostAllowList::Parse({entry}, "--allow-host");
    ASSERT_FALSE(list.ok()) << entry;
    EXPECT_EQ(list.status().path(), "--allow-host");
    EXPECT_NE(list.status().message().find(entry), std::string::npos)
        << list.status().message();
  }
}

TEST(HostAllowListAddressTest, AddressText) {
  Addr a = MakeAddr("10.0.0.1", 8080);
  EXPECT_EQ(AddressText(a.sa(), a.len), "10.0.0.1");
  Addr b = MakeAddr("fd00::5");
  EXPECT_EQ(AddressText(b.sa(), b.len), "fd00::5");
}

}  // namespace
}  // namespace loadd
