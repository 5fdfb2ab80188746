// LoadProfile: a plan's load as a piecewise-linear function of run time:
// active users (closed model) or arrivals per second (open model).
//
// Closed model: user i (0-based, fleet-wide) is active exactly while
// U(t) > i, so the fleet's active count is ceil(U(t)) and ramping down stops
// the highest-numbered users first. Open model: arrival m (0-based) happens
// when the cumulative arrivals A(t) = integral of the rate reach m, so
// arrival 0 is at t = 0. Pure arithmetic: every worker computes the times of
// its own users and arrivals; no clock, no coordination.
#ifndef LOADD_COMMON_LOAD_PROFILE_H_
#define LOADD_COMMON_LOAD_PROFILE_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace loadd {

class LoadProfile {
 public:
  struct Knot {
    int64_t t_ns;  // run time
    double value;  // users, or arrivals per second
  };

  // Knots in increasing time, the first at t = 0; the profile ends at the
  // last knot.
  explicit LoadProfile(std::vector<Knot> knots);

  int64_t duration_ns() const { return knots_.back().t_ns; }
  // The knots as given (a leading {0, 0} added when the first was later).
  // Two knots at one time are a step: the load jumps without ramping.
  const std::vector<Knot>& knots() const { return knots_; }
  double ValueAt(int64_t t_ns) const;
  double Peak() const;

  // Closed model: the run times at which user i turns on (true) or off
  // (false), in order, within [0, duration). A user on at the end is
  // switched off by the end of the run, not listed here.
  std::vector<std::pair<int64_t, bool>> UserToggles(int64_t i) const;

  // Open model: cumulative arrivals by run time t (A(t), fractional).
  double ArrivalsBy(int64_t t_ns) const;
  // Run time of arrival m, or -1 when it falls at or after the end.
  // `segment` is a cursor for increasing m (start it at 0).
  int64_t ArrivalTime(int64_t m, size_t* segment) const;
  // How many arrivals the whole run has: the m with ArrivalTime(m) >= 0.
  int64_t TotalArrivals() const;

  // Live scaling: the same profile up to run time at_ns, then a straight
  // line from ValueAt(at_ns) to `to` at rate_per_s (users or arrivals/s per
  // second; <= 0: a step at at_ns), held until the end; the end is not
  // moved. Before at_ns nothing changes, so every user toggle and arrival
  // time before it stays (to the nanosecond's rounding), and a worker can
  // swap the new profile in at any time before at_ns. at_ns outside
  // [0, duration): the profile unchanged.
  LoadProfile Retarget(int64_t at_ns, double to, double rate_per_s) const;
  // The steepest slope of a ramp (per second, up or down; steps left out):
  // the rate a scaled run moves at. 0 for a profile without a ramp.
  double SteepestRate() const;
  // The user indices a closed-model run can ever have active: ceil(Peak()).
  int64_t UserBound() const;

 private:
  std::vector<Knot> knots_;
  std::vector<double> cumulative_;  // A(t) at each knot
};

}  // namespace loadd

#endif  // LOADD_COMMON_LOAD_PROFILE_H_
