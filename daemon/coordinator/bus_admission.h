// HandshakeAdmission: which new bus connections may attempt the fleet-key
// handshake, and for how long (docs/wire-protocol.md, "Admission").
//
// Before a connection answers the challenge nothing tells a worker from a
// peer without the key: both come from some address (workers of one host,
// one per core, share it; so do a flood and a worker on loopback or behind
// NAT). What tells them apart is that a worker answers within one round
// trip and a key-less peer never does. So every arrival is admitted, and
// when room runs out the connection that has waited longest makes way:
//   - at most max_pending_per_host connections of one host wait at once; a
//     new one from that host evicts that host's oldest;
//   - at most max_pending wait in all; a new one evicts the oldest of the
//     host holding the most (hosts that failed within failure_penalty_ms
//     first: wrong key, no answer in time, evicted), so a flood from one
//     host cannot push out another host's worker;
//   - a connection not authenticated within handshake_timeout_ms is closed;
//   - connections being closed (evicted, expired, failed) are bounded too
//     (max_closing): when that many are still open, new arrivals are
//     refused outright until the closing ones are gone.
// A worker's connection therefore lives at least until max_pending_per_host
// newer connections from its host have arrived, or its deadline, whichever
// is first; evicted connections are closed only after a quiet moment (see
// BusServer), which bounds how fast a flood can cycle.
//
// Pure bookkeeping over pipe ids, host strings and times the caller passes
// in: no I/O, no clock, not thread-safe (BusServer holds its lock).
#ifndef LOADD_DAEMON_COORDINATOR_BUS_ADMISSION_H_
#define LOADD_DAEMON_COORDINATOR_BUS_ADMISSION_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace loadd {

struct BusAdmissionOptions {
  int64_t handshake_timeout_ms = 2000;  // not authenticated by then: closed
  size_t max_pending = 256;             // connections in handshake, all hosts
  size_t max_pending_per_host = 128;    // connections in handshake, one host
  size_t max_closing = 256;             // given up on, not yet gone
  int64_t failure_penalty_ms = 30'000;  // a host's failures count this long
  size_t max_hosts_remembered = 4096;   // hosts with a recent failure
};

class HandshakeAdmission {
 public:
  struct Decision {
    bool admitted = false;
    uint32_t evicted = 0;  // a pipe that made way (0: none); the caller closes it
    std::string why;       // why it was evicted, or why the new pipe was refused
  };

  explicit HandshakeAdmission(BusAdmissionOptions options = {});

  // A new connection from `host` (address without port). Admitted, perhaps
  // at the cost of an older one (then in closing()), or refused.
  Decision Admit(uint32_t pipe, const std::string& host, int64_t now_ns);
  // The pipe proved the key: no longer in handshake, not counted here.
  void Authenticated(uint32_t pipe);
  // The pipe failed the handshake (wrong key, garbage): it is closing and
  // its host is penalized.
  void Failed(uint32_t pipe, int64_t now_ns);
  // Pipes in handshake whose deadline has passed, oldest first; each is
  // now closing and its host penalized.
  std::vector<uint32_t> Expire(int64_t now_ns);
  // The caller is closing `pipe` for another reason (a bad frame on a
  // session): it counts against max_closing until Removed.
  void Closing(uint32_t pipe);
  // The pipe is gone: forget it, whatever its state.
  void Removed(uint32_t pipe);

  size_t pending() const { return pending_.size(); }
  size_t closing() const { return closing_.size(); }
  bool Penalized(const std::string& host, int64_t now_ns) const;
  int64_t handshake_timeout_ns() const { return handshake_timeout_ns_; }

 private:
  struct Pending {
    std::string host;
    uint64_t order = 0;  // admission order: smaller is older
    int64_t deadline_ns = 0;
  };
  // The pipe `Admit` should evict for a newcomer from `host`, or 0 if there
  // is room; *why says which limit.
  uint32_t Victim(const std::string& host, int64_t now_ns, std::string* why) const;
  // Moves `pipe` from pending to closing; penalizes its host if `strike`.
  void Drop(uint32_t pipe, bool strike, int64_t now_ns);
  void Strike(const std::string& host, int64_t now_ns);

  BusAdmissionOptions options_;
  int64_t handshake_timeout_ns_;
  int64_t penalty_ns_;
  uint64_t next_order_ = 0;
  std::map<uint32_t, Pending> pending_;  // by pipe id
  // Per host, its pending pipes as (order, pipe), oldest first.
  std::map<std::string, std::set<std::pair<uint64_t, uint32_t>>> by_host_;
  std::set<uint32_t> closing_;
  std::map<std::string, int64_t> failed_at_ns_;  // host -> its latest failure
};

// "HOST:PORT" or "[V6]:PORT" (PipePeerAddress) -> HOST or V6; anything
// else unchanged.
std::string AddressHost(std::string_view address);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_BUS_ADMISSION_H_
