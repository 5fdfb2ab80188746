// OwnedClass: one congruence class of a worker's share (see ShareChange in
// common/wire.h), with the run times at which its members change hands.
#ifndef LOADD_DAEMON_WORKER_SHARE_H_
#define LOADD_DAEMON_WORKER_SHARE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "common/clock.h"
#include "common/wire.h"

namespace loadd {

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();
constexpr int64_t kSinceStart = std::numeric_limits<int64_t>::min();

struct OwnedClass {
  int64_t modulus = 1;
  int64_t residue = 0;
  int64_t rank_modulus = 1;
  int64_t rank_residue = 0;
  int64_t at_ns = kSinceStart;  // run time the handover begins
  double rate = 1;              // handovers per second, fleet-wide

  static OwnedClass From(const ShareChange& c, double rate) {
    return OwnedClass{c.modulus,
                      c.residue,
                      c.rank_modulus,
                      c.rank_residue,
                      c.at_ms < 0 ? kSinceStart : c.at_ms * kNsPerMs,
                      std::max(rate, 1e-3)};
  }
  bool Contains(int64_t i) const { return i % modulus == residue; }
  // Run time at which index i changes hands (kSinceStart: it always had).
  int64_t HandoverNs(int64_t i) const {
    if (at_ns == kSinceStart) return kSinceStart;
    int64_t rank = i >= rank_residue ? (i - rank_residue) / rank_modulus : 0;
    double delay_ns = std::min(static_cast<double>(rank) * 1e9 / rate, 1e17);
    return at_ns + static_cast<int64_t>(delay_ns);
  }
  // Handover without pacing (open model: arrivals are paced already).
  int64_t StartNs() const { return at_ns; }
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_SHARE_H_
