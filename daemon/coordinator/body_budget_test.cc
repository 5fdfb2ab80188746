#include "daemon/coordinator/body_budget.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr int64_t kLeaseNs = 31 * kNsPerSec;

TEST(BodyBudgetTest, AdmitsUpToTheBudgetAndRefusesPastItRetryably) {
  FakeClock clock;
  BodyBudget budget(&clock);
  EXPECT_TRUE(budget.Reserve("a", 9 * kMiB, 24 * kMiB, kLeaseNs).ok());
  EXPECT_TRUE(budget.Reserve("b", 9 * kMiB, 24 * kMiB, kLeaseNs).ok());
  Status third = budget.Reserve("c", 9 * kMiB, 24 * kMiB, kLeaseNs);
  EXPECT_EQ(third.code(), StatusCode::kUnavailable);  // HTTP 503: try again
  EXPECT_NE(third.message().find("--max-parsing-bytes"), std::string::npos)
      << third.message();
  EXPECT_NE(third.message().find("try again"), std::string::npos);
  EXPECT_TRUE(budget.Reserve("c", 6 * kMiB, 24 * kMiB, kLeaseNs).ok());  // fits
  EXPECT_EQ(budget.reserved_bytes(), 24 * kMiB);
  // Once a handler is done, its bytes are free again.
  EXPECT_EQ(budget.Release("a"), 9 * kMiB);
  EXPECT_EQ(budget.Release("a"), 0u);
  EXPECT_TRUE(budget.Reserve("d", 9 * kMiB, 24 * kMiB, kLeaseNs).ok());
}

TEST(BodyBudgetTest, ANewRequestOnAConnectionReplacesItsReservation) {
  FakeClock clock;
  BodyBudget budget(&clock);
  ASSERT_TRUE(budget.Reserve("a", 9 * kMiB, 10 * kMiB, kLeaseNs).ok());
  EXPECT_TRUE(budget.Reserve("a", 9 * kMiB, 10 * kMiB, kLeaseNs).ok());
  EXPECT_EQ(budget.reserved_bytes(), 9 * kMiB);
}

TEST(BodyBudgetTest, AReservationWhoseHandlerNeverRanLapses) {
  FakeClock clock;
  BodyBudget budget(&clock);
  ASSERT_TRUE(budget.Reserve("gone", 9 * kMiB, 10 * kMiB, kLeaseNs).ok());
  clock.AdvanceNs(kLeaseNs - 1);
  EXPECT_FALSE(budget.Reserve("b", 9 * kMiB, 10 * kMiB, kLeaseNs).ok());
  clock.AdvanceNs(1);
  EXPECT_TRUE(budget.Reserve("b", 9 * kMiB, 10 * kMiB, kLeaseNs).ok());
  EXPECT_EQ(budget.reserved_bytes(), 9 * kMiB);
}

}  // namespace
}  // namespace loadd
