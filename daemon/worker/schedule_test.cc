#include "daemon/worker/schedule.h"

#include <gtest/gtest.h>

#include <vector>

namespace loadd {
namespace {

TEST(ClosedScheduleTest, StripesPartitionTheUsersEvenly) {
  for (int64_t users : {1, 7, 181, 200, 1000}) {
    for (int64_t n : {1, 2, 3, 4, 7}) {
      std::vector<int> seen(users, 0);
      int64_t min_share = users, max_share = 0;
      for (int64_t k = 0; k < n; ++k) {
        ClosedSchedule s{users, 20.0, k, n};
        int64_t local = s.LocalUsers();
        min_share = std::min(min_share, local);
        max_share = std::max(max_share, local);
        for (int64_t j = 0; j < local; ++j) ++seen[s.GlobalIndex(j)];
      }
      for (int64_t i = 0; i < users; ++i) ASSERT_EQ(seen[i], 1) << users << "/" << n << " i=" << i;
      EXPECT_LE(max_share - min_share, 1) << users << "/" << n;
    }
  }
}

TEST(ClosedScheduleTest, FleetRampIsTheSingleMachineRamp) {
  // 181 users over 9 s (spawn rate 20/s) on 4 stripes: at every instant the
  // users started across stripes equal the one-machine count.
  const int64_t users = 181;
  const double rate = 20;
  for (int64_t t_ms = 0; t_ms <= 10000; t_ms += 50) {
    int64_t started = 0;
    for (int64_t k = 0; k < 4; ++k) {
      ClosedSchedule s{users, rate, k, 4};
      for (int64_t j = 0; j < s.LocalUsers(); ++j) {
        if (s.StartOffsetNs(s.GlobalIndex(j)) <= t_ms * 1'000'000) ++started;
      }
    }
    ClosedSchedule whole{users, rate, 0, 1};
    EXPECT_EQ(started, whole.StartedBy(t_ms * 1'000'000)) << t_ms;
  }
}

}  // namespace
}  // namespace loadd
