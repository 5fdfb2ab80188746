// WorkerBus: what a Worker needs of its end of the fleet bus. BusClient
// (bus_client.h) is the real one, over nng with the fleet-key handshake;
// worker_test.cc drives the Worker through a fake.
//
// Send/TryRecv never block and are called on the loop thread; recv_fd() is
// an fd that is readable (level-triggered) while messages wait.
#ifndef LOADD_DAEMON_WORKER_WORKER_BUS_H_
#define LOADD_DAEMON_WORKER_WORKER_BUS_H_

#include <cstdint>
#include <string>

#include "common/status.h"

namespace loadd {

class WorkerBus {
 public:
  virtual ~WorkerBus() = default;
  // kUnavailable when not connected or the send queue is full.
  virtual Status Send(const std::string& bytes) = 0;
  // False when nothing is waiting.
  virtual bool TryRecv(std::string* out) = 0;
  virtual int recv_fd() const = 0;
  // Bumped by every new connection: the worker registers again.
  virtual uint64_t connection_epoch() const = 0;
  virtual bool connected() const = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_WORKER_BUS_H_
