// Source addresses for connections to loopback targets.
//
// Every connection of a worker to one target address and port differs from
// the others only in its source port when they all come from 127.0.0.1:
// ~28,000 ephemeral ports (ip_local_port_range), of which connect() prefers
// the even half, and a search for a free 4-tuple that grows with each
// connection held (at 20,000 connections a third of the worker's time went
// into that search, docs/performance.md part 3). On loopback every address
// of 127.0.0.0/8 is local, so for a target there the worker spreads its
// connections round robin over kLoopbackSources source addresses of its
// own, each with its own port space, binding each socket before connect()
// with IP_BIND_ADDRESS_NO_PORT (the port is still chosen by connect(), per
// 4-tuple, so no port is reserved at bind time).
//
// Worker instance I uses 127.(200 + I / 256 % 50).(I % 256).1 through .16:
// two workers on one host (loadd@0, loadd@1) never share an address, hence
// never each other's port space, and 127.0.0.0/24, where local targets
// usually listen, stays apart. Instances 12,800 apart share addresses,
// which is only slower, never wrong (the kernel keeps 4-tuples unique).
//
// Only for IPv4 loopback targets: on a real network the source address is
// what the routing table says, and ::1 is one address with no range.
// `loadd worker --loopback-sources off` (or LOADD_SOURCE_ADDRS=0 in the
// environment) turns it off: for a loopback server that admits only
// 127.0.0.1, and for measuring what it changes (bench/many_conns.py).
//
// Not thread-safe: one worker process, one event loop thread.
#ifndef LOADD_DAEMON_WORKER_SOURCE_ADDR_H_
#define LOADD_DAEMON_WORKER_SOURCE_ADDR_H_

#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "common/status.h"

namespace loadd {

inline constexpr int kLoopbackSources = 16;

// Whether addr is an IPv4 address in 127.0.0.0/8.
bool IsLoopbackV4(const sockaddr* addr, socklen_t len);

// The source address of connection number n (counted from 0) of worker
// `instance`.
in_addr LoopbackSource(int64_t instance, uint64_t n);

class SourceAddresses {
 public:
  explicit SourceAddresses(int64_t instance) : instance_(instance) {}

  // For a target in 127.0.0.0/8, binds fd (a fresh, unconnected TCP socket)
  // to the next source address with IP_BIND_ADDRESS_NO_PORT; for any other
  // target does nothing. An error leaves fd unbound (connect() then picks
  // the source itself) and says which address failed.
  Status BindFor(int fd, const sockaddr* target, socklen_t len);

  // How many sockets BindFor() bound so far.
  uint64_t bound() const { return next_; }

 private:
  int64_t instance_;
  uint64_t next_ = 0;
};

// The worker process's policy: the native engine (HttpConn) and libcurl
// connections call these. SetSourceInstance() once at start (default 0).
void SetSourceInstance(int64_t instance);
// On by default; off, every socket is left to the kernel.
void SetLoopbackSources(bool on);
// BindFor() with the process's policy, unless it is off; a failure is
// logged once and the socket left unbound.
void BindLoopbackSource(int fd, const sockaddr* target, socklen_t len);
// A CURLOPT_OPENSOCKETFUNCTION: socket(), then BindLoopbackSource().
curl_socket_t OpenCurlSocket(void* clientp, curlsocktype purpose, curl_sockaddr* address);

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_SOURCE_ADDR_H_
