// Driver: decides when a run's requests start. ClosedDriver runs users that
// each loop over requests; OpenDriver starts iterations at the plan's
// arrival rate. Both run only their worker's share of the fleet-wide users
// or arrivals, and accept share changes mid-run. Loop-thread only.
#ifndef LOADD_DAEMON_WORKER_DRIVER_H_
#define LOADD_DAEMON_WORKER_DRIVER_H_

#include <cstdint>
#include <vector>

#include "common/load_profile.h"
#include "common/wire.h"

namespace loadd {

class Driver {
 public:
  virtual ~Driver() = default;
  // run_start_ns: this worker's clock reading of run time 0.
  virtual void Start(int64_t run_start_ns) = 0;
  virtual void Apply(const std::vector<ShareChange>& changes, double handover_rate) = 0;
  // Live scaling: the run's profile from now on (ProfileMsg). It equals the
  // one before up to the change's instant, so what already ran stays; users
  // and arrivals after it follow the new line, at once if that instant has
  // passed. The share does not change (indices past the plan's users
  // belong to the classes that contain them).
  virtual void SetProfile(LoadProfile profile) = 0;
  // The run's duration is over: start nothing new; requests in flight finish.
  virtual void OnEnding() = 0;
  // Interrupt everything in flight now.
  virtual void Abort() = 0;
  virtual int64_t active() const = 0;     // the users gauge (open model: in flight)
  virtual int64_t in_flight() const = 0;  // requests not yet counted
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_DRIVER_H_
