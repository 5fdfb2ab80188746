#include "common/run_end.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace loadd {
namespace {

TEST(RunEndTest, EveryReasonReadsBackFromItsName) {
  std::set<std::string> names;
  for (int i = 0; i < kEndReasonCount; ++i) {
    EndReason reason = static_cast<EndReason>(i);
    names.insert(EndReasonName(reason));
    EXPECT_EQ(EndReasonFromName(EndReasonName(reason)), reason) << i;
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kEndReasonCount));
  EXPECT_EQ(EndReasonName(EndReason::kAbortedByThreshold),
            std::string("aborted_by_threshold"));
  EXPECT_FALSE(EndReasonFromName("").has_value());
  EXPECT_FALSE(EndReasonFromName("Completed").has_value());
  EXPECT_FALSE(EndReasonFromName("run aborted").has_value());
}

TEST(RunEndTest, FinalStatsNames) {
  EXPECT_STREQ(FinalStatsName(FinalStats::kPending), "pending");
  EXPECT_STREQ(FinalStatsName(FinalStats::kReceived), "received");
  EXPECT_STREQ(FinalStatsName(FinalStats::kMissing), "missing");
  EXPECT_STREQ(FinalStatsName(FinalStats::kLost), "lost");
}

}  // namespace
}  // namespace loadd
