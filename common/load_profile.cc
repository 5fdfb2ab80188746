#include "common/load_profile.h"

#include <algorithm>
#include <cmath>

namespace loadd {
namespace {

constexpr double kNsPerSecD = 1e9;

}  // namespace

LoadProfile::LoadProfile(std::vector<Knot> knots) : knots_(std::move(knots)) {
  if (knots_.empty() || knots_.front().t_ns != 0)
    knots_.insert(knots_.begin(), Knot{0, 0});
  cumulative_.push_back(0);
  for (size_t s = 1; s < knots_.size(); ++s) {
    double seconds =
        static_cast<double>(knots_[s].t_ns - knots_[s - 1].t_ns) / kNsPerSecD;
    cumulative_.push_back(cumulative_.back() +
                          seconds * (knots_[s - 1].value + knots_[s].value) / 2);
  }
}

double LoadProfile::ValueAt(int64_t t_ns) const {
  if (t_ns <= 0) return knots_.front().value;
  for (size_t s = 1; s < knots_.size(); ++s) {
    const Knot& a = knots_[s - 1];
    const Knot& b = knots_[s];
    if (t_ns <= b.t_ns) {
      if (b.t_ns == a.t_ns) return b.value;
      double f =
          static_cast<double>(t_ns - a.t_ns) / static_cast<double>(b.t_ns - a.t_ns);
      return a.value + f * (b.value - a.value);
    }
  }
  return knots_.back().value;
}

double LoadProfile::Peak() const {
  double peak = 0;
  for (const Knot& k : knots_) peak = std::max(peak, k.value);
  return peak;
}

std::vector<std::pair<int64_t, bool>> LoadProfile::UserToggles(int64_t i) const {
  std::vector<std::pair<int64_t, bool>> toggles;
  const double level = static_cast<double>(i);
  bool on = knots_.front().value > level;
  if (on) toggles.emplace_back(0, true);
  for (size_t s = 1; s < knots_.size(); ++s) {
    const Knot& a = knots_[s - 1];
    const Knot& b = knots_[s];
    double span = static_cast<double>(b.t_ns - a.t_ns);
    if (!on && b.value > level) {  // rising through the level: on when U passes i
      double f = b.value == a.value ? 0 : (level - a.value) / (b.value - a.value);
      toggles.emplace_back(
          a.t_ns + static_cast<int64_t>(std::ceil(std::max(0.0, f) * span)), true);
      on = true;
    } else if (on && b.value <= level) {  // falling: off when U reaches i
      double f = (a.value - level) / (a.value - b.value);
      toggles.emplace_back(a.t_ns + static_cast<int64_t>(std::ceil(f * span)), false);
      on = false;
    }
  }
  while (!toggles.empty() && toggles.back().first >= duration_ns()) toggles.pop_back();
  return toggles;
}

double LoadProfile::ArrivalsBy(int64_t t_ns) const {
  if (t_ns <= 0) return 0;
  for (size_t s = 1; s < knots_.size(); ++s) {
    const Knot& a = knots_[s - 1];
    const Knot& b = knots_[s];
    if (t_ns <= b.t_ns) {
      double x = static_cast<double>(t_ns - a.t_ns) / kNsPerSecD;
      double span = static_cast<double>(b.t_ns - a.t_ns) / kNsPerSecD;
      double slope = span > 0 ? (b.value - a.value) / span : 0;
      return cumulative_[s - 1] + a.value * x + slope * x * x / 2;
    }
  }
  return cumulative_.back();
}

int64_t LoadProfile::ArrivalTime(int64_t m, size_t* segment) const {
  const double target = static_cast<double>(m);
  size_t s = std::max<size_t>(*segment, 1);
  while (s < knots_.size() && cumulative_[s] <= target) ++s;
  if (s >= knots_.size()) return -1;
  *segment = s;
  const Knot& a = knots_[s - 1];
  const Knot& b = knots_[s];
  double span = static_cast<double>(b.t_ns - a.t_ns) / kNsPerSecD;
  double x = target - cumulative_[s - 1];  // arrivals still to go in this segment
  double slope = (b.value - a.value) / span;
  // Solve a.value * u + slope * u^2 / 2 = x for u in [0, span], in the
  // form that stays exact when slope is 0 or tiny.
  double disc = std::max(0.0, a.value * a.value + 2 * slope * x);
  double denom = a.value + std::sqrt(disc);
  double u = x <= 0 ? 0 : denom > 0 ? 2 * x / denom : span;
  int64_t t = a.t_ns + static_cast<int64_t>(std::llround(u * kNsPerSecD));
  return t >= duration_ns() ? -1 : t;
}

int64_t LoadProfile::TotalArrivals() const {
  double total = cumulative_.back();
  int64_t n = static_cast<int64_t>(std::ceil(total));
  size_t seg = 0;
  while (n > 0 && ArrivalTime(n - 1, &seg) < 0) {
    --n;
    seg = 0;
  }
  return n;
}

LoadProfile LoadProfile::Retarget(int64_t at_ns, double to, double rate_per_s) const {
  const int64_t end_ns = duration_ns();
  if (at_ns < 0 || at_ns >= end_ns) return *this;
  const double from = ValueAt(at_ns);
  std::vector<Knot> knots;
  for (const Knot& k : knots_) {
    if (k.t_ns < at_ns) knots.push_back(k);
  }
  knots.push_back({at_ns, from});
  if (rate_per_s <= 0 || !std::isfinite(rate_per_s)) {
    knots.push_back({at_ns, to});  // a step
    knots.push_back({end_ns, to});
    return LoadProfile(std::move(knots));
  }
  const double ramp_ns = std::abs(to - from) / rate_per_s * kNsPerSecD;
  const double left_ns = static_cast<double>(end_ns - at_ns);
  if (ramp_ns < left_ns) {
    int64_t reach_ns = at_ns + static_cast<int64_t>(std::llround(ramp_ns));
    if (reach_ns > at_ns) knots.push_back({reach_ns, to});
    knots.push_back({end_ns, to});
  } else {  // the run ends on the way
    knots.push_back({end_ns, from + (to - from) * left_ns / ramp_ns});
  }
  return LoadProfile(std::move(knots));
}

double LoadProfile::SteepestRate() const {
  double steepest = 0;
  for (size_t s = 1; s < knots_.size(); ++s) {
    const double span_s =
        static_cast<double>(knots_[s].t_ns - knots_[s - 1].t_ns) / kNsPerSecD;
    if (span_s > 0) {
      steepest =
          std::max(steepest, std::abs(knots_[s].value - knots_[s - 1].value) / span_s);
    }
  }
  return steepest;
}

int64_t LoadProfile::UserBound() const {
  return static_cast<int64_t>(std::ceil(Peak() - 1e-9));
}

}  // namespace loadd
