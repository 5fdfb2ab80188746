// Resolver: target host names to socket addresses, behind a small interface
// so engine and worker tests resolve without DNS (FakeResolver in
// fake_resolver.h). The engine resolves every host of a plan once, before
// any load (Engine::Prepare): a name that does not resolve fails the run's
// start on this worker, it never becomes a failure per request.
#ifndef LOADD_DAEMON_WORKER_RESOLVER_H_
#define LOADD_DAEMON_WORKER_RESOLVER_H_

#include <sys/socket.h>

#include <string>

#include "common/status.h"

namespace loadd {

struct SocketAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // The first TCP address of host:port (an IP literal resolves to itself).
  // May block. kUnavailable, naming the host, when it does not resolve.
  virtual Result<SocketAddress> Resolve(const std::string& host, int port) = 0;
};

// getaddrinfo(3), any family. Stateless and thread-safe.
class SystemResolver final : public Resolver {
 public:
  Result<SocketAddress> Resolve(const std::string& host, int port) override;
};

// The process's SystemResolver (engines use it unless given another).
Resolver* DefaultResolver();

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_RESOLVER_H_
