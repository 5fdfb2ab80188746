// FakeResolver: host names resolved from a table, without DNS, for engine
// and worker tests (test-only; header only). It records every lookup.
#ifndef LOADD_DAEMON_WORKER_FAKE_RESOLVER_H_
#define LOADD_DAEMON_WORKER_FAKE_RESOLVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>

#include <map>
#include <string>
#include <vector>

#include "daemon/worker/resolver.h"

namespace loadd {

class FakeResolver final : public Resolver {
 public:
  // host resolves to ip (an IPv4 or IPv6 literal). An IP literal resolves
  // to itself, as with getaddrinfo; other names never added do not resolve.
  void Add(const std::string& host, const std::string& ip) { table_[host] = ip; }

  Result<SocketAddress> Resolve(const std::string& host, int port) override {
    lookups.push_back(host + ":" + std::to_string(port));
    auto it = table_.find(host);
    const std::string& ip = it != table_.end() ? it->second : host;
    SocketAddress a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
    if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(static_cast<uint16_t>(port));
      a.len = sizeof(sockaddr_in);
      return a;
    }
    if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(static_cast<uint16_t>(port));
      a.len = sizeof(sockaddr_in6);
      return a;
    }
    return Status(StatusCode::kUnavailable,
                  "cannot resolve " + host + ": Name or service not known (fake)");
  }

  std::vector<std::string> lookups;  // "host:port", in order

 private:
  std::map<std::string, std::string> table_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_FAKE_RESOLVER_H_
