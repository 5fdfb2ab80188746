#include "daemon/coordinator/persist_schedule.h"

#include <algorithm>

#include "common/clock.h"

namespace loadd {

bool PersistSchedule::Due(const RunTimes& run, bool final, bool changed,
                          int64_t now_ns) const {
  if (final || !run.ever_stored) return true;
  int64_t since = now_ns - run.stored_ns;
  int64_t spacing = SpacingNs(run.snapshot_cost_ns);
  return since >= std::max(kNsPerSec, spacing) ||
         (changed && since >= std::max(interval_ns, spacing));
}

bool PersistSchedule::NewlySlowerThanOncePerSecond(int64_t last_cost_ns,
                                                   int64_t cost_ns) {
  return SpacingNs(last_cost_ns) <= kNsPerSec && SpacingNs(cost_ns) > kNsPerSec;
}

}  // namespace loadd
