#include "daemon/coordinator/body_budget.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <utility>

#include "daemon/coordinator/plan_intake.h"

namespace loadd {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(BodyBudget, ReservesUpToTheBudgetAndGivesBackWhenTheLeaseEnds) {
  BodyBudget budget;
  BodyLease a, b, c;
  ASSERT_TRUE(budget.Reserve(10 * kMiB, 24 * kMiB, &a).ok());
  ASSERT_TRUE(budget.Reserve(14 * kMiB, 24 * kMiB, &b).ok());  // exactly full
  EXPECT_EQ(budget.reserved_bytes(), 24 * kMiB);
  Status refused = budget.Reserve(1, 24 * kMiB, &c);
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("--max-parsing-bytes"), std::string::npos);
  EXPECT_NE(refused.message().find("try again"), std::string::npos);
  EXPECT_NE(refused.message().find("24 MiB"), std::string::npos) << refused.message();
  EXPECT_EQ(c.bytes(), 0u);  // a refusal reserves nothing
  EXPECT_EQ(budget.reserved_bytes(), 24 * kMiB);
  a.Release();
  EXPECT_EQ(budget.reserved_bytes(), 14 * kMiB);
  EXPECT_TRUE(budget.Reserve(10 * kMiB, 24 * kMiB, &c).ok());
  {
    BodyLease moved = std::move(b);  // moving hands the bytes on, once
    EXPECT_EQ(b.bytes(), 0u);
    EXPECT_EQ(budget.reserved_bytes(), 24 * kMiB);
  }
  EXPECT_EQ(budget.reserved_bytes(), 10 * kMiB);
  c = BodyLease();  // assigning over a lease gives its bytes back
  EXPECT_EQ(budget.reserved_bytes(), 0u);
}

TEST(BodyBudget, ABodyLargerThanTheWholeBudgetIsRefusedEvenWhenIdle) {
  BodyBudget budget;
  BodyLease lease;
  EXPECT_EQ(budget.Reserve(25 * kMiB, 24 * kMiB, &lease).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(budget.reserved_bytes(), 0u);
}

TEST(BodyBudget, ALowerBudgetAfterAReloadKeepsEarlierLeases) {
  BodyBudget budget;
  BodyLease big, next;
  ASSERT_TRUE(budget.Reserve(20 * kMiB, 24 * kMiB, &big).ok());
  EXPECT_FALSE(budget.Reserve(1, 16 * kMiB, &next).ok());
  big.Release();
  EXPECT_TRUE(budget.Reserve(16 * kMiB, 16 * kMiB, &next).ok());
}

TEST(BodyBudget, ReservingAgainIntoALeaseGivesBackWhatItHeld) {
  BodyBudget budget;
  BodyLease lease;
  ASSERT_TRUE(budget.Reserve(20 * kMiB, 24 * kMiB, &lease).ok());
  ASSERT_TRUE(budget.Reserve(20 * kMiB, 24 * kMiB, &lease).ok());
  EXPECT_EQ(budget.reserved_bytes(), 20 * kMiB);
}

// The intake runs jobs in turn on its thread; it holds at most max_queued
// waiting; Stop() drops the waiting ones (their leases given back).
TEST(PlanIntake, QueuesAtMostMaxQueuedAndDropsTheRestOnStop) {
  BodyBudget budget;
  PlanIntake intake(2);
  std::promise<void> started, release;
  std::shared_future<void> go = release.get_future().share();
  ASSERT_TRUE(intake.Submit([&started, go] {
    started.set_value();
    go.wait();
  }));
  started.get_future().wait();  // the first job runs: the queue is empty
  int ran = 0;
  auto lease = std::make_shared<BodyLease>();
  ASSERT_TRUE(budget.Reserve(kMiB, 24 * kMiB, lease.get()).ok());
  EXPECT_TRUE(intake.Submit([&ran, lease] { ++ran; }));
  EXPECT_TRUE(intake.Submit([&ran] { ++ran; }));
  EXPECT_FALSE(intake.Submit([&ran] { ++ran; }));  // two wait already
  lease.reset();
  EXPECT_EQ(budget.reserved_bytes(), kMiB);  // held by the queued job
  std::thread stopper([&intake] { intake.Stop(); });
  // Stop drops the queued jobs before it waits for the running one.
  while (budget.reserved_bytes() != 0) std::this_thread::yield();
  release.set_value();
  stopper.join();
  EXPECT_EQ(ran, 0);
  EXPECT_FALSE(intake.Submit([&ran] { ++ran; }));
}

TEST(PlanIntake, RunsJobsInTheOrderGiven) {
  PlanIntake intake(8);
  std::string order;
  std::promise<void> done;
  for (char c : std::string("abc")) {
    ASSERT_TRUE(intake.Submit([&order, c] { order += c; }));
  }
  ASSERT_TRUE(intake.Submit([&done] { done.set_value(); }));
  done.get_future().wait();
  EXPECT_EQ(order, "abc");
}

}  // namespace
}  // namespace loadd
