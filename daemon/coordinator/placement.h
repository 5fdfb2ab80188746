// Placement: which workers a run gets, as a pure function of the plan's
// `workers` (common/plan.h: count and labels), its expect_workers, and the
// live workers of the fleet (idle or busy with another run).
//
// Rules (docs/plan.md, "workers"):
// - A worker matches when it carries every label the plan asks for.
// - Without a count a run takes every matching live worker: it can start
//   only when none of them is busy. With a count it takes that many (or
//   every matching one, when fewer are live; the run is then short, and
//   workers that register later join it).
// - expect_workers: at least that many matching workers must be idle.
// - The chosen workers are the first of the idle matching ones in striped
//   order (common/share.h StripeOrder: hosts first, then cores), so a run
//   of 8 on 4 hosts x 16 cores gets 2 per host.
// No clock, no I/O, no lock.
#ifndef LOADD_DAEMON_COORDINATOR_PLACEMENT_H_
#define LOADD_DAEMON_COORDINATOR_PLACEMENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/labels.h"
#include "common/plan.h"

namespace loadd {

struct PlacementCandidate {
  std::string worker_id;
  std::string host;  // host identity (hostname or --host-id)
  int64_t instance = 0;
  Labels labels;
  bool idle = true;  // false: busy with another run
};

enum class PlacementVerdict {
  kStart,    // worker_ids holds the run's workers
  kBusy,     // enough matching workers are live, but some are busy: queue
  kShort,    // fewer matching workers are live than it needs: wait for more
  kNoMatch,  // no live worker matches at all
};

struct Placement {
  PlacementVerdict verdict = PlacementVerdict::kNoMatch;
  std::vector<std::string> worker_ids;  // in striped order (kStart only)
  int64_t matching = 0;                 // live workers that match
  int64_t matching_idle = 0;            // ... of which idle
  int64_t needed = 0;                   // idle matching workers it needs to start
};

// True when `have` carries every label of `want` with the same value.
bool LabelsMatch(const Labels& want, const Labels& have);

Placement Place(const WorkerSelector& want, int64_t expect_workers,
                const std::vector<PlacementCandidate>& live);

// "pool=a" / "any worker", for messages.
std::string DescribeSelector(const WorkerSelector& want);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_PLACEMENT_H_
