#include "daemon/coordinator/striping.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

std::vector<std::string> Ids(const std::vector<StripeMember>& order) {
  std::vector<std::string> ids;
  for (const StripeMember& m : order) ids.push_back(m.worker_id);
  return ids;
}

TEST(StripingTest, InterleavesHostsThenCores) {
  std::vector<StripeMember> members = {{"b", 1, "b/1"},
                                       {"a", 0, "a/0"},
                                       {"a", 1, "a/1"},
                                       {"b", 0, "b/0"},
                                       {"a", 2, "a/2"}};
  EXPECT_EQ(Ids(StripeOrder(members)),
            (std::vector<std::string>{"a/0", "b/0", "a/1", "b/1", "a/2"}));
}

TEST(StripingTest, OrderDoesNotDependOnInput) {
  std::vector<StripeMember> one = {{"x", 3, "x/3"}, {"y", 0, "y/0"}, {"x", 0, "x/0"}};
  std::vector<StripeMember> two = {one[2], one[0], one[1]};
  EXPECT_EQ(Ids(StripeOrder(one)), Ids(StripeOrder(two)));
}

}  // namespace
}  // namespace loadd
