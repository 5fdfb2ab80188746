#include "common/load_profile.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/clock.h"

namespace loadd {
namespace {

constexpr int64_t kSec = kNsPerSec;

// Active users at time t, computed from every user's toggles.
int64_t ActiveAt(const LoadProfile& p, int64_t users, int64_t t) {
  int64_t active = 0;
  for (int64_t i = 0; i < users; ++i) {
    bool on = false;
    for (auto [when, state] : p.UserToggles(i)) {
      if (when <= t) on = state;
    }
    active += on;
  }
  return active;
}

TEST(LoadProfileTest, RampIsTheIdealLineAtEveryInstant) {
  // 181 users over 9 s, then hold: ceil(U(t)) users at every t.
  LoadProfile p({{0, 0}, {9 * kSec, 181}, {20 * kSec, 181}});
  // Sampled off the grid: at a crossing instant itself, either count is right.
  for (int64_t t = 1001; t < 20 * kSec; t += 37 * kNsPerMs) {
    EXPECT_EQ(ActiveAt(p, 181, t), static_cast<int64_t>(std::ceil(p.ValueAt(t)))) << t;
  }
}

TEST(LoadProfileTest, RampDownStopsTheNewestUsersFirst) {
  LoadProfile p({{0, 0}, {2 * kSec, 10}, {4 * kSec, 10}, {6 * kSec, 0}, {7 * kSec, 0}});
  auto toggles = p.UserToggles(9);
  ASSERT_EQ(toggles.size(), 2u);
  EXPECT_TRUE(toggles[0].second);
  EXPECT_FALSE(toggles[1].second);
  // User 9 is the last on and the first off.
  EXPECT_LE(p.UserToggles(8)[0].first, toggles[0].first);
  EXPECT_GE(p.UserToggles(8)[1].first, toggles[1].first);
  for (int64_t t = 1001; t < 7 * kSec; t += 100 * kNsPerMs) {
    EXPECT_EQ(ActiveAt(p, 10, t), static_cast<int64_t>(std::ceil(p.ValueAt(t)))) << t;
  }
}

TEST(LoadProfileTest, ConstantRateArrivalsAreEvenlySpaced) {
  LoadProfile p({{0, 2000}, {10 * kSec, 2000}});
  EXPECT_EQ(p.TotalArrivals(), 20000);
  size_t seg = 0;
  EXPECT_EQ(p.ArrivalTime(0, &seg), 0);
  EXPECT_EQ(p.ArrivalTime(1, &seg), 500'000);
  EXPECT_EQ(p.ArrivalTime(19999, &seg), 9'999'500'000);
  EXPECT_EQ(p.ArrivalTime(20000, &seg), -1);
}

TEST(LoadProfileTest, RampingRateArrivalsFollowTheIntegral) {
  // 0 -> 100/s over 10 s (500 arrivals), then 100/s for 5 s (500 more).
  LoadProfile p({{0, 0}, {10 * kSec, 100}, {15 * kSec, 100}});
  EXPECT_EQ(p.TotalArrivals(), 1000);
  size_t seg = 0;
  int64_t last = -1;
  for (int64_t m = 0; m < 1000; ++m) {
    int64_t t = p.ArrivalTime(m, &seg);
    ASSERT_GE(t, last) << m;
    // A(t) at the m-th arrival is m, to within rounding of t to a nanosecond.
    EXPECT_NEAR(p.ArrivalsBy(t), static_cast<double>(m), 1e-3) << m;
    last = t;
  }
  // Striped over 4 workers, every arrival is someone's and the shares are even.
  for (int k = 0; k < 4; ++k) {
    int64_t share = 0;
    size_t s = 0;
    for (int64_t m = k; p.ArrivalTime(m, &s) >= 0; m += 4) ++share;
    EXPECT_EQ(share, 250) << k;
  }
}

TEST(LoadProfileTest, ZeroRateSegmentsHaveNoArrivals) {
  LoadProfile p({{0, 0}, {2 * kSec, 0}, {3 * kSec, 10}});
  EXPECT_EQ(p.TotalArrivals(), 5);
  size_t seg = 0;
  EXPECT_GE(p.ArrivalTime(0, &seg), 2 * kSec);
}

// Live scaling (issue 16): 100 users held, moved to 300 at 100 users/s at
// run time 5 s, then to 50 at 8.5 s.
TEST(LoadProfileTest, RetargetFollowsTheLineAndKeepsThePast) {
  LoadProfile plan({{0, 0}, {1 * kSec, 100}, {20 * kSec, 100}});
  LoadProfile up = plan.Retarget(5 * kSec, 300, 100);
  EXPECT_EQ(up.duration_ns(), plan.duration_ns());
  for (int64_t t = 0; t < 5 * kSec; t += 97 * kNsPerMs) {
    EXPECT_DOUBLE_EQ(up.ValueAt(t), plan.ValueAt(t)) << t;
  }
  EXPECT_DOUBLE_EQ(up.ValueAt(6 * kSec), 200);
  EXPECT_DOUBLE_EQ(up.ValueAt(7 * kSec), 300);
  EXPECT_DOUBLE_EQ(up.ValueAt(19 * kSec), 300);
  EXPECT_EQ(up.UserBound(), 300);
  // Users 0..99 keep their toggles; users 100..299 turn on along the line.
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(up.UserToggles(i), plan.UserToggles(i));
  for (int64_t t = 5 * kSec + 1001; t < 9 * kSec; t += 37 * kNsPerMs) {
    EXPECT_EQ(ActiveAt(up, 300, t), static_cast<int64_t>(std::ceil(up.ValueAt(t)))) << t;
  }
  LoadProfile down = up.Retarget(8500 * kNsPerMs, 50, 100);
  EXPECT_DOUBLE_EQ(down.ValueAt(8 * kSec), 300);
  EXPECT_DOUBLE_EQ(down.ValueAt(9500 * kNsPerMs), 200);
  EXPECT_DOUBLE_EQ(down.ValueAt(11 * kSec), 50);
  EXPECT_EQ(down.UserBound(), 300);
  for (int64_t t = 8 * kSec + 1001; t < 12 * kSec; t += 37 * kNsPerMs) {
    EXPECT_EQ(ActiveAt(down, 300, t), static_cast<int64_t>(std::ceil(down.ValueAt(t))))
        << t;
  }
  // Newest first: user 299 stops before user 200, and users below 50 stay.
  auto last = down.UserToggles(299);
  auto mid = down.UserToggles(200);
  ASSERT_FALSE(last.empty());
  ASSERT_FALSE(mid.empty());
  EXPECT_FALSE(last.back().second);
  EXPECT_FALSE(mid.back().second);
  EXPECT_LT(last.back().first, mid.back().first);
  EXPECT_EQ(down.UserToggles(49), plan.UserToggles(49));
}

TEST(LoadProfileTest, RetargetOpenModelKeepsEveryArrivalBeforeTheChange) {
  LoadProfile plan({{0, 200}, {10 * kSec, 200}});
  LoadProfile up = plan.Retarget(3 * kSec, 600, 400);  // 1 s of ramp
  size_t a = 0, b = 0;
  for (int64_t m = 0; m < 600; ++m) {  // the 600 arrivals of the first 3 s
    EXPECT_NEAR(up.ArrivalTime(m, &b), plan.ArrivalTime(m, &a), 1) << m;
  }
  EXPECT_DOUBLE_EQ(up.ArrivalsBy(4 * kSec), 600 + 400);  // ramp: mean 400/s
  EXPECT_DOUBLE_EQ(up.ArrivalsBy(5 * kSec), 1000 + 600);
  EXPECT_EQ(up.TotalArrivals(), 600 + 400 + 6 * 600);
}

TEST(LoadProfileTest, SteepestRateIsTheFastestRampUpOrDown) {
  EXPECT_DOUBLE_EQ(LoadProfile({{0, 0}, {2 * kSec, 100}, {9 * kSec, 100}}).SteepestRate(),
                   50);
  EXPECT_DOUBLE_EQ(LoadProfile({{0, 0}, {4 * kSec, 100}, {5 * kSec, 100}, {6 * kSec, 0}})
                       .SteepestRate(),
                   100);
  EXPECT_DOUBLE_EQ(LoadProfile({{0, 200}, {9 * kSec, 200}}).SteepestRate(), 0);
  EXPECT_DOUBLE_EQ(
      LoadProfile({{0, 5}, {kSec, 5}, {kSec, 9}, {2 * kSec, 9}}).SteepestRate(), 0);
}

TEST(LoadProfileTest, RetargetStepsWithoutARateAndStopsAtTheEnd) {
  LoadProfile plan({{0, 100}, {10 * kSec, 100}});
  LoadProfile step = plan.Retarget(2 * kSec, 400, 0);
  EXPECT_DOUBLE_EQ(step.ValueAt(2 * kSec + 1), 400);
  EXPECT_DOUBLE_EQ(step.ArrivalsBy(3 * kSec), 200 + 400);
  // Too slow to arrive before the end: the line is cut there.
  LoadProfile slow = plan.Retarget(8 * kSec, 300, 50);
  EXPECT_DOUBLE_EQ(slow.ValueAt(10 * kSec), 200);
  EXPECT_EQ(slow.duration_ns(), 10 * kSec);
  // Outside the run: unchanged.
  EXPECT_DOUBLE_EQ(plan.Retarget(10 * kSec, 5, 1).ValueAt(9 * kSec), 100);
  EXPECT_DOUBLE_EQ(plan.Retarget(-1, 5, 1).ValueAt(9 * kSec), 100);
}

}  // namespace
}  // namespace loadd
