// Listening sockets for `loadd target`: parsing "HOST:PORT" and opening
// non-blocking SO_REUSEPORT listeners, so every loop thread can own one.
#ifndef LOADD_DAEMON_TARGET_TARGET_LISTEN_H_
#define LOADD_DAEMON_TARGET_TARGET_LISTEN_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace loadd {

struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;

  uint16_t port() const;
  void set_port(uint16_t port);
  // "127.0.0.1:8080", "[::1]:8080".
  std::string ToString() const;
};

// "HOST:PORT" with a numeric IPv4 host, "[IPv6]:PORT", "localhost:PORT", or
// ":PORT" (all IPv4 interfaces). Port 0 lets the kernel pick. Host names
// other than localhost are rejected: resolving them could block.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// Binds a plain socket (no SO_REUSEPORT) to `address` and releases it. Fails
// when something already listens there, even a loadd target of the same user
// that SO_REUSEPORT would let us silently share the port with. Returns the
// address with the port the kernel chose when 0 was asked. Another process
// could take the port between this check and OpenListener(); then that fails.
Result<ListenAddress> ProbeListenAddress(const ListenAddress& address);

// A non-blocking, close-on-exec listening socket bound to `address` with
// SO_REUSEADDR and SO_REUSEPORT. The caller owns the fd.
Result<int> OpenListener(const ListenAddress& address);

// The address `fd` is bound to (the kernel's choice when port 0 was asked).
Result<ListenAddress> BoundAddress(int fd);

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_LISTEN_H_
