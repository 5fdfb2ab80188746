// Striping: the one order in which a run's users are dealt to workers.
//
// Hosts are interleaved first, then the cores of each host: with hosts A, B
// and two cores each the order is A/0, B/0, A/1, B/1. Dealing user i to
// position i % n then gives every host and every core an even share at every
// moment of the ramp, so the fleet-wide ramp is a straight line.
#ifndef LOADD_DAEMON_COORDINATOR_STRIPING_H_
#define LOADD_DAEMON_COORDINATOR_STRIPING_H_

#include <cstdint>
#include <string>
#include <vector>

namespace loadd {

struct StripeMember {
  std::string host;
  int64_t instance = 0;
  std::string worker_id;
};

// Returns the members in striped order. Deterministic: hosts by name,
// instances ascending, whatever the input order.
std::vector<StripeMember> StripeOrder(std::vector<StripeMember> members);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_STRIPING_H_
