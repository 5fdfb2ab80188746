// BusServer: the coordinator's end of the fleet bus. One nng pair1 socket in
// polyamorous mode listens for every worker; each worker connection is a
// pipe, and replies go to that pipe.
//
// Every pipe must first pass the fleet-key handshake (common/bus_auth.h).
// Until it does, the Coordinator does not hear of it: no OnConnect, none of
// its messages, and SendTo it is dropped. After it, every message in either
// direction is an authenticated frame; a frame that fails the check closes
// the pipe. Pipes still in handshake are bounded in number and time, and
// when room runs out the one waiting longest makes way (bus_admission.h),
// so peers that never answer cannot keep workers out.
//
// Thread-safety: SendTo and SetFleetKey may be called from any thread. The
// Coordinator is called from one thread at a time (the receive thread, or
// nng's pipe-event thread), never with this class's lock held, in order:
// OnConnect, OnMessage..., OnDisconnect.
#ifndef LOADD_DAEMON_COORDINATOR_BUS_SERVER_H_
#define LOADD_DAEMON_COORDINATOR_BUS_SERVER_H_

#include <nng/nng.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/bus_auth.h"
#include "common/bus_tls.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "daemon/coordinator/bus_admission.h"
#include "daemon/coordinator/coordinator.h"

namespace CLI {
class App;
}

namespace loadd {

struct BusServerOptions {
  std::string fleet_key;          // from LoadFleetKey; required
  BusTlsOptions tls;              // for tls+tcp:// URLs
  BusAdmissionOptions admission;  // pipes in handshake: deadline and bounds
  size_t max_sessions = 16384;    // authenticated pipes at once
  const Clock* clock = nullptr;   // null: the real clock
};

// The coordinator's bus security flags, for CoordinatorMain: --fleet-key-file
// (LOADD_FLEET_KEY_FILE), --bus-tls-cert, --bus-tls-key, --bus-tls-ca.
struct BusServerFlags {
  std::string fleet_key_file = kDefaultFleetKeyFile;
  BusTlsOptions tls;
  void AddTo(CLI::App* app);
  // Reads the key file; errors name the flag and say how to fix it.
  Result<BusServerOptions> Load() const;
};

class BusServer final : public FleetBus {
 public:
  // What the server refused, for tests and operators.
  struct Counters {
    uint64_t handshake_failures = 0;  // wrong key or malformed handshake
    uint64_t handshake_timeouts = 0;  // closed: not authenticated in time
    uint64_t evicted = 0;             // closed: made way for a newer handshake
    uint64_t over_limit = 0;          // refused: no room (sessions, or closing)
    uint64_t bad_frames = 0;          // closed: a frame failed its check
    uint64_t strays = 0;              // dropped: non-handshake data before auth
    uint64_t unsent = 0;              // SendTo a pipe without a session
    uint64_t closed = 0;              // pipes closed by the server
    uint64_t close_errors = 0;        // nng_pipe_close failed (pipe already gone)
  };

  BusServer() = default;
  ~BusServer() override;

  // The coordinator must be set before Listen and outlive the server.
  void set_coordinator(Coordinator* c) { coordinator_ = c; }
  Status Listen(const std::string& url, BusServerOptions options);
  // The bound TCP port (for tests listening on port 0); 0 if unknown.
  int port() const { return port_; }
  // New handshakes use `key` from now on; authenticated pipes keep their
  // session (key rotation, SIGHUP).
  void SetFleetKey(std::string key);
  // Re-reads the key file named by `flags` and uses it for new handshakes;
  // on error keeps the old key and returns why.
  Status ReloadFleetKey(const BusServerFlags& flags);
  void Close();

  void SendTo(uint32_t pipe, const std::string& bytes) override;
  // Monotonic ns: now while the receive loop is waiting on an empty queue,
  // otherwise when it last found the queue empty (see ReceiveLoop).
  int64_t DeliveredUpToNs(int64_t now_ns) const override;

  Counters counters() const;
  size_t handshaking() const;
  size_t sessions() const;

 private:
  struct Peer {
    std::string address;                         // "HOST:PORT", for logs
    std::unique_ptr<ServerHandshake> handshake;  // while authenticating
    std::unique_ptr<BusSession> session;         // once authenticated
    bool announced = false;                      // the Coordinator knows the pipe
    // A pipe we gave up on is condemned first and closed once it has been
    // quiet for a moment (see kQuietBeforeCloseNs in the .cc); its messages
    // are dropped meanwhile. Monotonic ns; last_message_ns starts at the
    // pipe's admission, so a peer that never spoke is closed at once.
    bool condemned = false;
    bool closed = false;
    int64_t condemned_ns = 0;
    int64_t last_message_ns = 0;
    uint32_t strays = 0;
  };
  enum class Verdict { kDrop, kDeliver, kAnnounce };
  // The receive loop waited at least this long for a message: the queue
  // was empty when it started waiting (taking a queued one takes
  // microseconds).
  static constexpr int64_t kIdleWaitNs = 200'000;
  // When the receive loop began its current wait (0: not waiting), and the
  // start of the newest wait that proved the queue empty.
  std::atomic<int64_t> waiting_since_ns_{0};
  std::atomic<int64_t> drained_at_ns_{0};

  static void OnPipe(nng_pipe pipe, nng_pipe_ev ev, void* self);
  void OnPipeAdding(nng_pipe pipe);
  void OnPipeAdded(nng_pipe pipe);
  void OnPipeRemoved(nng_pipe pipe);
  void ReceiveLoop();
  void SweepLoop();
  // Decides what one received message means; `payload` is set for kDeliver.
  Verdict Judge(uint32_t pipe, std::string_view bytes, std::string_view* payload,
                std::string* why);
  // Condemns peers whose handshake is overdue and closes condemned peers
  // gone quiet.
  void Sweep();
  // Marks `peer` (pipe `id`) for closing.
  void Condemn(uint32_t id, Peer* peer) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends on `pipe`. False if nng refused it.
  bool SendLocked(uint32_t pipe, const std::string& bytes) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClosePipe(uint32_t pipe);
  void Warn(const std::string& address, const std::string& what);
  int64_t Now() const { return clock_->NowNs(); }

  Coordinator* coordinator_ = nullptr;
  const Clock* clock_ = RealClock::Get();
  size_t max_sessions_ = 0;
  nng_socket socket_ = NNG_SOCKET_INITIALIZER;
  bool open_ = false;
  int port_ = 0;
  std::atomic<bool> closing_{false};
  std::thread receiver_;
  std::thread sweeper_;
  Mutex sweep_mu_;  // for sweep_cv_ only
  CondVar sweep_cv_;
  LogLimiter log_limiter_{5 * kNsPerSec};

  // Held while calling the Coordinator, so its events keep their order.
  Mutex deliver_mu_ ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;  // below deliver_mu_; never held calling the Coordinator
  std::string key_ GUARDED_BY(mu_);
  std::map<uint32_t, Peer> peers_ GUARDED_BY(mu_);  // by pipe id
  size_t sessions_ GUARDED_BY(mu_) = 0;             // peers_ with a session
  HandshakeAdmission admission_ GUARDED_BY(mu_);
  Counters counters_ GUARDED_BY(mu_);
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_BUS_SERVER_H_
