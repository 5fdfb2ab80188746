#include "daemon/worker/resolver.h"

#include <netdb.h>

#include <cstring>

namespace loadd {

Result<SocketAddress> SystemResolver::Resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    if (res != nullptr) freeaddrinfo(res);
    return Status(StatusCode::kUnavailable,
                  "cannot resolve " + host + ": " + gai_strerror(rc));
  }
  SocketAddress a;
  std::memcpy(&a.addr, res->ai_addr, res->ai_addrlen);
  a.len = res->ai_addrlen;
  freeaddrinfo(res);
  return a;
}

Resolver* DefaultResolver() {
  static SystemResolver* resolver = new SystemResolver();
  return resolver;
}

}  // namespace loadd
