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

}  // namespace
}  // namespace loadd
