// Where each user of a closed-model plan runs and when it starts.
//
// Users are numbered 0..users-1 fleet-wide; user i starts i / spawn_rate
// seconds after the run starts (a straight ramp). Worker k of n in the
// striped order runs exactly the users with i % n == k, so the fleet's sum is
// the single-machine schedule and shares differ by at most one user. Pure
// arithmetic, no clock: each worker computes its own schedule.
#ifndef LOADD_DAEMON_WORKER_SCHEDULE_H_
#define LOADD_DAEMON_WORKER_SCHEDULE_H_

#include <cmath>
#include <cstdint>

namespace loadd {

struct ClosedSchedule {
  int64_t users = 0;
  double spawn_rate = 1;  // users per second, fleet-wide
  int64_t stripe_index = 0;
  int64_t stripe_count = 1;

  int64_t LocalUsers() const {
    if (stripe_index >= users) return 0;
    return (users - 1 - stripe_index) / stripe_count + 1;
  }
  int64_t GlobalIndex(int64_t local) const { return stripe_index + local * stripe_count; }
  int64_t StartOffsetNs(int64_t global_index) const {
    return std::llround(static_cast<double>(global_index) * 1e9 / spawn_rate);
  }
  // Fleet-wide users started by offset_ns (inclusive), the ideal ramp line.
  int64_t StartedBy(int64_t offset_ns) const {
    if (offset_ns < 0) return 0;
    double started = std::floor(static_cast<double>(offset_ns) * spawn_rate / 1e9) + 1;
    return started >= static_cast<double>(users) ? users : static_cast<int64_t>(started);
  }
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_SCHEDULE_H_
