// BusClient: the worker's end of the fleet bus (nng pair1, dialing the
// coordinator). nng reconnects by itself.
//
// Every connection must pass the fleet-key handshake (common/bus_auth.h)
// before anything reaches the worker: the coordinator proves it knows the
// key too, so a fake coordinator cannot hand this worker a plan. After it,
// messages both ways are authenticated frames; a frame that fails its check
// closes the connection. Each authenticated connection bumps
// connection_epoch(), so the worker knows to register again.
//
// Threads: a receive thread runs the handshake and checks frames; checked
// messages wait in a bounded inbox (the receive thread blocks when it is
// full, which pushes back on the coordinator). Send/TryRecv never block and
// are meant for the loop thread; recv_fd() is readable while the inbox holds
// messages (register it level-triggered).
#ifndef LOADD_DAEMON_WORKER_BUS_CLIENT_H_
#define LOADD_DAEMON_WORKER_BUS_CLIENT_H_

#include <nng/nng.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/bus_auth.h"
#include "common/bus_tls.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "daemon/worker/worker_bus.h"

namespace loadd {

struct BusClientOptions {
  std::string fleet_key;       // from LoadFleetKey; required
  std::string fleet_key_file;  // where it came from, for error messages
  BusTlsOptions tls;           // for tls+tcp:// URLs
  int64_t handshake_timeout_ms =
      5000;                      // a connection not authenticated by then is closed
  size_t max_inbox = 256;        // checked messages waiting for the loop
  const Clock* clock = nullptr;  // null: the real clock
};

class BusClient final : public WorkerBus {
 public:
  // What the client refused, for tests.
  struct Counters {
    uint64_t authenticated = 0;       // sessions established
    uint64_t handshake_failures = 0;  // the peer failed to prove the key, or refused ours
    uint64_t handshake_timeouts = 0;
    uint64_t bad_frames = 0;
    uint64_t pipes_added = 0;
    uint64_t pipes_removed = 0;
    uint64_t stale = 0;  // dropped: from a connection no longer current
  };

  BusClient() = default;
  ~BusClient() override;

  Status Dial(const std::string& url, BusClientOptions options);
  // Wraps `bytes` in a frame. kUnavailable when not authenticated or the
  // send queue is full.
  Status Send(const std::string& bytes) override;
  // False when nothing is waiting.
  bool TryRecv(std::string* out) override;
  int recv_fd() const override { return event_fd_; }
  uint64_t connection_epoch() const override { return epoch_.load(); }
  // An authenticated connection is up.
  bool connected() const override { return authenticated_.load(); }
  // New connections use `key` (key rotation, SIGHUP); the current one keeps
  // its session.
  void SetFleetKey(std::string key);
  void Close();
  Counters counters() const;

 private:
  static void OnPipe(nng_pipe pipe, nng_pipe_ev ev, void* self);
  void OnPipeAdded(uint32_t pipe);
  void OnPipeRemoved(uint32_t pipe);
  void ReceiveLoop();
  void SweepLoop();
  // Gives up on the current connection.
  void CondemnLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Handles one message from the current pipe (may wait on mu_ for inbox
  // space). Returns false if the pipe must close.
  bool HandleLocked(std::string_view bytes) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CheckDeadlineLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool SendLocked(const std::string& bytes) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClosePipe(uint32_t pipe);
  void Warn(const std::string& what);
  int64_t Now() const { return clock_->NowNs(); }

  std::string url_;
  std::string key_file_;
  const Clock* clock_ = RealClock::Get();
  int64_t handshake_timeout_ns_ = 0;
  size_t max_inbox_ = 0;
  nng_socket socket_ = NNG_SOCKET_INITIALIZER;
  nng_dialer dialer_ = NNG_DIALER_INITIALIZER;
  bool open_ = false;
  int event_fd_ = -1;
  std::thread receiver_;
  std::thread sweeper_;
  Mutex sweep_mu_;  // for sweep_cv_ only
  CondVar sweep_cv_;
  std::atomic<bool> closing_{false};
  std::atomic<uint64_t> epoch_{0};
  std::atomic<bool> authenticated_{false};
  LogLimiter log_limiter_{10 * kNsPerSec};

  mutable Mutex mu_;
  CondVar inbox_space_;
  std::string key_ GUARDED_BY(mu_);
  uint32_t pipe_ GUARDED_BY(mu_) = 0;                 // current pipe or 0
  int64_t deadline_ns_ GUARDED_BY(mu_) = 0;           // handshake deadline
  int64_t unconnected_since_ns_ GUARDED_BY(mu_) = 0;  // for "still not connected"
  bool refused_ GUARDED_BY(mu_) = false;              // our key was refused
  std::unique_ptr<ClientHandshake> handshake_ GUARDED_BY(mu_);  // while authenticating
  std::unique_ptr<BusSession> session_ GUARDED_BY(mu_);         // once authenticated
  std::deque<std::string> inbox_ GUARDED_BY(mu_);
  // Connections given up on, closed once quiet (see the .cc); monotonic ns.
  struct Condemned {
    int64_t since_ns;
    int64_t last_message_ns;
  };
  std::map<uint32_t, Condemned> condemned_ GUARDED_BY(mu_);
  Counters counters_ GUARDED_BY(mu_);
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_BUS_CLIENT_H_
