// BusServer: the coordinator's end of the fleet bus. One nng pair1 socket in
// polyamorous mode listens for every worker; each worker connection is a
// pipe, and replies go to that pipe. A receive thread hands every message
// and pipe event to the Coordinator.
#ifndef LOADD_DAEMON_COORDINATOR_BUS_SERVER_H_
#define LOADD_DAEMON_COORDINATOR_BUS_SERVER_H_

#include <nng/nng.h>

#include <atomic>
#include <string>
#include <thread>

#include "common/status.h"
#include "daemon/coordinator/coordinator.h"

namespace loadd {

class BusServer final : public FleetBus {
 public:
  BusServer() = default;
  ~BusServer() override;

  // The coordinator must be set before Listen and outlive the server.
  void set_coordinator(Coordinator* c) { coordinator_ = c; }
  Status Listen(const std::string& url);
  void Close();

  void SendTo(uint32_t pipe, const std::string& bytes) override;

 private:
  static void OnPipe(nng_pipe pipe, nng_pipe_ev ev, void* self);
  void ReceiveLoop();

  Coordinator* coordinator_ = nullptr;
  nng_socket socket_ = NNG_SOCKET_INITIALIZER;
  bool open_ = false;
  std::atomic<bool> closing_{false};
  std::thread receiver_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_BUS_SERVER_H_
