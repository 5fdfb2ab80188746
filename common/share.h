// Shares: which users (closed model) or arrivals (open model) of a run each
// worker owns, and how ownership moves when workers join or leave. Pure
// arithmetic on congruence classes, no clock, no I/O: the coordinator deals
// with it, workers pace handovers with it, and share_test.cc checks its
// invariants over random sequences of joins and losses.
//
// A share is a list of classes: index i (a user of 0..users-1, or the i-th
// arrival fleet-wide) belongs to class (modulus M, residue r) when
// i % M == r. A run starts with worker k of n owning (n, k); a newcomer
// takes one part of every class of every donor (SplitForNewcomer); a lost
// worker's classes are split into parts and dealt to the others, heaviest
// part to the lightest heir (DealOut). Invariant: every index is owned by
// exactly one live worker of the run at all times (once handovers are done).
//
// Striping decides who is worker k of n at the start: hosts are interleaved
// first, then the cores of each host (StripeOrder), so every host and every
// core gets an even share at every moment of the ramp and the fleet-wide
// ramp is a straight line.
#ifndef LOADD_COMMON_SHARE_H_
#define LOADD_COMMON_SHARE_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/clock.h"

namespace loadd {

// A change to a worker's share of a run: the users (closed model) or
// arrivals (open model) whose fleet-wide index i satisfies
// i % modulus == residue are gained (add) or given up. A run starts with
// {add, n, k} for the worker at stripe position k of n; when a worker joins
// or leaves, classes are split and handed over.
//
// Handover pacing: index i changes hands at run time at_ms + rank / rate,
// rank = (i - rank_residue) / rank_modulus, rate the message's
// handover_rate, so moved users restart at the plan's ramp rate fleet-wide
// instead of all at once. at_ms < 0 means from the run's start, unpaced.
struct ShareChange {
  bool add = true;
  int64_t modulus = 1;
  int64_t residue = 0;
  int64_t rank_modulus = 1;
  int64_t rank_residue = 0;
  int64_t at_ms = -1;
};

using Share = std::vector<ShareChange>;  // a worker's classes (add == true)

// Striping: the one order in which a run's users are dealt to workers. With
// hosts A, B and two cores each the order is A/0, B/0, A/1, B/1; the worker
// at position k of n starts with the class (n, k).
struct StripeMember {
  std::string host;
  int64_t instance = 0;
  std::string worker_id;
};
// Returns the members in striped order. Deterministic: hosts by name,
// instances ascending (then ids), whatever the input order.
std::vector<StripeMember> StripeOrder(std::vector<StripeMember> members);

// How many of the indices 0..total-1 are in the class i % modulus == residue.
inline int64_t CountInClass(int64_t total, int64_t modulus, int64_t residue) {
  return residue < total ? (total - 1 - residue) / modulus + 1 : 0;
}

// A class's weight: its users (closed model, users > 0), or its fraction of
// the arrivals (open model, users == 0).
double ClassWeight(int64_t users, int64_t modulus, int64_t residue);
// The users a share holds (closed model; 0 in the open model).
int64_t UsersInShare(const Share& share, int64_t users);

// Dealing out the shares of workers that left (lost, or done early).
struct Deal {
  // The classes that must move: the leaving shares less classes without
  // users (more classes than users). Empty: nothing to deal.
  std::vector<ShareChange> orphans;
  // Per heir (in the order given), the parts it gains; every part is an add
  // at at_ms, ranked along its parent class.
  std::vector<Share> gains;
  // Each heir's handovers per second: the plan's rate over the orphans, so
  // the fleet restarts moved users at the plan's rate.
  double rate = 1;
};
// heirs: the shares of the workers that stay (at least one). Each orphan
// (M, r) is split into p parts (M*p, r + M*j), aiming at 1/8 of what each
// heir gains; parts go heaviest first to the heir holding the least. A part
// is never empty, so moduli stay within about twice the user count however
// often shares move; in the open model they are capped at 2^40.
Deal DealOut(const std::vector<Share>& leaving, const std::vector<Share>& heirs,
             int64_t users, int64_t at_ms, double handover_rate);
// The orphans alone (no heirs needed): to decide whether there is anything
// to deal before looking for heirs.
std::vector<ShareChange> Orphans(const std::vector<Share>& leaving, int64_t users);

// A newcomer joining a running run takes one part of every donor class.
struct JoinSplit {
  std::vector<Share> kept;      // per donor, its new share (n parts of each class)
  std::vector<Share> removals;  // per donor, the parts it gives up (add == false)
  Share taken;                  // the newcomer's share
  double rate = 1;              // handovers per second for every message
};
// Splits each donor class (M, r) into n+1 parts (M(n+1), r + Mj), n the
// number of donors: the donor keeps n, the newcomer takes one, chosen so the
// newcomer holds within one user of users / (n+1) (closed model; users 0:
// the open model, where parts weigh the same). False (and *join untouched)
// when a donor would then hold more than max_classes classes: the newcomer
// waits for the next run.
bool SplitForNewcomer(const std::vector<Share>& donors, int64_t users, int64_t at_ms,
                      double handover_rate, size_t max_classes, JoinSplit* join);

// Worker side: one class of a worker's share, with the run times at which
// its members change hands.
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
  int64_t HandoverNs(int64_t i) const;
  // Handover without pacing (open model: arrivals are paced already).
  int64_t StartNs() const { return at_ns; }
};

}  // namespace loadd

#endif  // LOADD_COMMON_SHARE_H_
