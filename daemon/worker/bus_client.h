// BusClient: the worker's end of the fleet bus (nng pair1, dialing the
// coordinator). nng reconnects by itself; every new connection bumps
// connection_epoch() so the worker knows to register again.
//
// Send/TryRecv never block and are meant for the loop thread; recv_fd() is
// readable while messages wait (register it level-triggered).
#ifndef LOADD_DAEMON_WORKER_BUS_CLIENT_H_
#define LOADD_DAEMON_WORKER_BUS_CLIENT_H_

#include <nng/nng.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace loadd {

class BusClient {
 public:
  BusClient() = default;
  ~BusClient();

  Status Dial(const std::string& url);
  // kUnavailable when not connected or the send queue is full.
  Status Send(const std::string& bytes);
  // False when nothing is waiting.
  bool TryRecv(std::string* out);
  int recv_fd() const { return recv_fd_; }
  uint64_t connection_epoch() const { return epoch_.load(); }
  bool connected() const { return pipes_.load() > 0; }

 private:
  static void OnPipe(nng_pipe pipe, nng_pipe_ev ev, void* self);

  nng_socket socket_ = NNG_SOCKET_INITIALIZER;
  bool open_ = false;
  int recv_fd_ = -1;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<int> pipes_{0};
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_BUS_CLIENT_H_
