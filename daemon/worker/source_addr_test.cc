#include "daemon/worker/source_addr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>

namespace loadd {
namespace {

std::string Dotted(in_addr a) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

sockaddr_in V4(const char* dotted, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, dotted, &a.sin_addr);
  return a;
}

const sockaddr* Sa(const void* a) { return static_cast<const sockaddr*>(a); }

TEST(SourceAddrTest, WhichAddressForWhichConnection) {
  struct Case {
    int64_t instance;
    uint64_t n;
    const char* want;
  };
  const Case cases[] = {
      {0, 0, "127.200.0.1"},       {0, 1, "127.200.0.2"},     {0, 15, "127.200.0.16"},
      {0, 16, "127.200.0.1"},      {0, 33, "127.200.0.2"},    {1, 0, "127.200.1.1"},
      {7, 5, "127.200.7.6"},       {255, 0, "127.200.255.1"}, {256, 0, "127.201.0.1"},
      {12799, 0, "127.249.255.1"}, {12800, 0, "127.200.0.1"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Dotted(LoopbackSource(c.instance, c.n)), c.want)
        << "instance " << c.instance << ", connection " << c.n;
  }
}

TEST(SourceAddrTest, WorkersOnOneHostNeverShareAnAddress) {
  std::set<std::string> seen;
  for (int64_t instance = 0; instance < 512; ++instance) {
    for (int n = 0; n < kLoopbackSources; ++n) {
      std::string a = Dotted(LoopbackSource(instance, n));
      EXPECT_TRUE(seen.insert(a).second) << a << " again, for instance " << instance;
      EXPECT_NE(a.substr(0, 8), "127.0.0.") << "instance " << instance;
    }
  }
}

TEST(SourceAddrTest, OnlyIpv4LoopbackTargets) {
  struct Case {
    const char* dotted;
    bool loopback;
  };
  const Case cases[] = {
      {"127.0.0.1", true},        {"127.0.0.4", true},  {"127.255.255.254", true},
      {"126.255.255.255", false}, {"128.0.0.1", false}, {"10.1.2.3", false},
      {"192.168.0.1", false},     {"0.0.0.0", false},
  };
  for (const Case& c : cases) {
    sockaddr_in a = V4(c.dotted, 80);
    EXPECT_EQ(IsLoopbackV4(Sa(&a), sizeof a), c.loopback) << c.dotted;
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  EXPECT_FALSE(IsLoopbackV4(Sa(&v6), sizeof v6)) << "::1";
  sockaddr_in short_len = V4("127.0.0.1", 80);
  EXPECT_FALSE(IsLoopbackV4(Sa(&short_len), 4)) << "truncated sockaddr";
  EXPECT_FALSE(IsLoopbackV4(nullptr, 0));
}

class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr_ = V4("127.0.0.1", 0);
    socklen_t len = sizeof addr_;
    if (bind(fd_, Sa(&addr_), len) != 0 || listen(fd_, 64) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr_), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    }
  }
  ~Listener() { close(fd_); }
  const sockaddr_in& addr() const { return addr_; }

 private:
  int fd_ = -1;
  sockaddr_in addr_{};
};

sockaddr_in LocalOf(int fd) {
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  return local;
}

TEST(SourceAddrTest, ConnectionsComeFromTheWorkersAddressesInTurn) {
  Listener target;
  SourceAddresses sources(3);
  for (int n = 0; n < kLoopbackSources + 2; ++n) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(sources.BindFor(fd, Sa(&target.addr()), sizeof target.addr()).ok());
    // IP_BIND_ADDRESS_NO_PORT: bound to the address, no port taken yet.
    EXPECT_EQ(ntohs(LocalOf(fd).sin_port), 0) << "connection " << n;
    ASSERT_EQ(connect(fd, Sa(&target.addr()), sizeof target.addr()), 0)
        << strerror(errno);
    sockaddr_in local = LocalOf(fd);
    EXPECT_EQ(Dotted(local.sin_addr), Dotted(LoopbackSource(3, n))) << "connection " << n;
    EXPECT_NE(ntohs(local.sin_port), 0) << "connection " << n;
    close(fd);
  }
  EXPECT_EQ(sources.bound(), static_cast<uint64_t>(kLoopbackSources + 2));
}

TEST(SourceAddrTest, OtherTargetsAreLeftToTheKernel) {
  SourceAddresses sources(0);
  sockaddr_in remote = V4("192.0.2.1", 80);  // TEST-NET-1: never connected to
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  for (const sockaddr* target : {Sa(&remote), Sa(&v6)}) {
    int fd = socket(target->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 && target->sa_family == AF_INET6) continue;  // no IPv6 here
    ASSERT_GE(fd, 0);
    socklen_t len = target->sa_family == AF_INET ? sizeof remote : sizeof v6;
    EXPECT_TRUE(sources.BindFor(fd, target, len).ok());
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len);
    if (target->sa_family == AF_INET) {
      EXPECT_EQ(reinterpret_cast<sockaddr_in*>(&local)->sin_addr.s_addr,
                htonl(INADDR_ANY));
    } else {
      EXPECT_TRUE(
          IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr));
    }
    close(fd);
  }
  EXPECT_EQ(sources.bound(), 0u);
}

TEST(SourceAddrTest, ABindErrorSaysWhichAddress) {
  Listener target;
  SourceAddresses sources(0);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in any = V4("127.0.0.1", 0);
  ASSERT_EQ(bind(fd, Sa(&any), sizeof any), 0);  // already bound: a second bind fails
  Status st = sources.BindFor(fd, Sa(&target.addr()), sizeof target.addr());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("127.200.0.1"), std::string::npos) << st.ToString();
  EXPECT_EQ(sources.bound(), 0u);
  close(fd);
}

}  // namespace
}  // namespace loadd
