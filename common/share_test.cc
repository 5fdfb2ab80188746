// The share arithmetic against its invariant, over thousands of random
// sequences of joins and losses in both load models: every user index
// (closed model) and every arrival index (open model) is owned by exactly
// one live worker after every step; a newcomer holds its fair share within
// one user; and a loss leaves the heirs no further apart than they were or
// than the biggest part dealt.
#include "common/share.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace loadd {
namespace {

int64_t Owners(const std::vector<Share>& live, int64_t i) {
  int64_t owners = 0;
  for (const Share& share : live) {
    for (const ShareChange& c : share) owners += (i % c.modulus == c.residue) ? 1 : 0;
  }
  return owners;
}

std::vector<Share> Striped(int64_t n) {
  std::vector<Share> live;
  for (int64_t k = 0; k < n; ++k) live.push_back({ShareChange{true, n, k, 1, 0, -1}});
  return live;
}

// One random step: a newcomer joins, or one to three workers are lost at
// once (a rack). Returns a description for failure messages.
std::string Step(std::mt19937_64* rng, std::vector<Share>* live, int64_t users) {
  std::uniform_int_distribution<int> coin(0, 2);
  if (live->size() == 1 || coin(*rng) == 0) {
    JoinSplit join;
    if (!SplitForNewcomer(*live, users, 1000, 100, 256, &join)) return "join refused";
    if (users > 0) {  // the newcomer holds its fair share, within one user
      double fair = static_cast<double>(users) / static_cast<double>(live->size() + 1);
      EXPECT_LT(std::abs(static_cast<double>(UsersInShare(join.taken, users)) - fair),
                1.0)
          << "users " << users;
    }
    for (size_t d = 0; d < live->size(); ++d) {
      // The removals are exactly what the donor gives up.
      EXPECT_EQ(join.removals[d].size() + join.kept[d].size(),
                (*live)[d].size() * (live->size() + 1));
      (*live)[d] = join.kept[d];
    }
    live->push_back(join.taken);
    return "join";
  }
  size_t most = std::min<size_t>(3, live->size() - 1);
  size_t lose = std::uniform_int_distribution<size_t>(1, most)(*rng);
  std::shuffle(live->begin(), live->end(), *rng);
  std::vector<Share> leaving(live->end() - static_cast<long>(lose), live->end());
  live->resize(live->size() - lose);
  auto spread = [&] {
    int64_t fewest = users, most = 0;
    for (const Share& share : *live) {
      fewest = std::min(fewest, UsersInShare(share, users));
      most = std::max(most, UsersInShare(share, users));
    }
    return most - fewest;
  };
  int64_t before = spread();
  Deal deal = DealOut(leaving, *live, users, 2000, 100);
  EXPECT_EQ(deal.gains.size(), live->size());
  int64_t biggest_part = 0;
  for (size_t j = 0; j < live->size(); ++j) {
    for (const ShareChange& part : deal.gains[j]) {
      biggest_part = std::max(biggest_part, UsersInShare({part}, users));
    }
    (*live)[j].insert((*live)[j].end(), deal.gains[j].begin(), deal.gains[j].end());
  }
  if (users > 0) {
    // Heaviest part first to the lightest heir: the heirs end no further
    // apart than they were or than the biggest part (parts are about an
    // eighth of each heir's gain, so not within one user: by design, to
    // keep the classes few).
    EXPECT_LE(spread(), std::max(before, biggest_part)) << "users " << users;
  }
  return "lose " + std::to_string(lose);
}

TEST(ShareTest, ClosedModelEveryUserHasExactlyOneOwnerThroughJoinsAndLosses) {
  std::mt19937_64 rng(20261207);
  int64_t worst_spread = 0;
  for (int seq = 0; seq < 2000; ++seq) {
    int64_t users = std::uniform_int_distribution<int64_t>(1, 400)(rng);
    auto live = Striped(std::uniform_int_distribution<int64_t>(1, 8)(rng));
    std::string history;
    for (int step = 0; step < 10; ++step) {
      history += Step(&rng, &live, users) + "; ";
      int64_t total = 0, fewest = users, most = 0;
      for (const Share& share : live) {
        int64_t held = UsersInShare(share, users);
        total += held;
        fewest = std::min(fewest, held);
        most = std::max(most, held);
      }
      ASSERT_EQ(total, users) << "users " << users << " after " << history;
      for (int64_t i = 0; i < users; ++i) {
        ASSERT_EQ(Owners(live, i), 1)
            << "user " << i << " of " << users << " after " << history;
      }
      worst_spread = std::max(worst_spread, most - fewest);
    }
  }
  printf("worst spread between two workers: %lld users\n",
         static_cast<long long>(worst_spread));
}

TEST(ShareTest, OpenModelEveryArrivalHasExactlyOneOwnerThroughJoinsAndLosses) {
  std::mt19937_64 rng(7);
  for (int seq = 0; seq < 300; ++seq) {
    auto live = Striped(std::uniform_int_distribution<int64_t>(1, 8)(rng));
    std::string history;
    for (int step = 0; step < 10; ++step) {
      history += Step(&rng, &live, /*users=*/0) + "; ";
      double fraction = 0;
      for (const Share& share : live) {
        for (const ShareChange& c : share)
          fraction += ClassWeight(0, c.modulus, c.residue);
      }
      ASSERT_NEAR(fraction, 1.0, 1e-9) << history;
      for (int64_t i = 0; i < 1000; ++i) {
        ASSERT_EQ(Owners(live, i), 1) << "arrival " << i << " after " << history;
      }
      for (int k = 0; k < 50; ++k) {  // and far into a long run
        int64_t i = std::uniform_int_distribution<int64_t>(0, int64_t{1} << 50)(rng);
        ASSERT_EQ(Owners(live, i), 1) << "arrival " << i << " after " << history;
      }
    }
  }
}

TEST(ShareTest, ClassesWithoutUsersAreNotDealt) {
  // 3 users over 5 workers: workers 3 and 4 own empty classes.
  auto live = Striped(5);
  std::vector<Share> leaving = {live[4]};
  live.pop_back();
  EXPECT_TRUE(Orphans(leaving, 3).empty());
  Deal deal = DealOut(leaving, live, 3, 0, 100);
  for (const Share& g : deal.gains) EXPECT_TRUE(g.empty());
}

TEST(ShareTest, OneLostClassIsSplitOnePartPerHeirPacedAlongItsParent) {
  auto live = Striped(4);  // 400 users, 100 each
  std::vector<Share> leaving = {live[1]};
  live.erase(live.begin() + 1);
  Deal deal = DealOut(leaving, live, 400, 5000, 90);
  ASSERT_EQ(deal.gains.size(), 3u);
  for (const Share& g : deal.gains) {
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].modulus, 12);
    EXPECT_EQ(g[0].rank_modulus, 4);  // ranked along (4, 1)
    EXPECT_EQ(g[0].rank_residue, 1);
    EXPECT_EQ(g[0].at_ms, 5000);
    EXPECT_NEAR(UsersInShare(g, 400), 33, 1);
  }
  EXPECT_DOUBLE_EQ(deal.rate, 90);
}

TEST(ShareTest, TooFragmentedSharesMakeTheNewcomerWait) {
  std::vector<Share> donors(2);
  for (int64_t r = 0; r < 300; ++r) donors[r % 2].push_back({true, 300, r, 1, 0, -1});
  JoinSplit join;
  EXPECT_FALSE(SplitForNewcomer(donors, 600, 0, 10, 256, &join));
  EXPECT_TRUE(SplitForNewcomer(donors, 600, 0, 10, 400, &join));
  EXPECT_EQ(join.taken.size(), 300u);
  EXPECT_DOUBLE_EQ(join.rate, 10.0 / 300);
}

TEST(OwnedClassTest, HandoverIsPacedByRankAtTheRate) {
  OwnedClass c = OwnedClass::From({true, 6, 4, 3, 1, 2000}, 10);
  EXPECT_TRUE(c.Contains(10));
  EXPECT_FALSE(c.Contains(11));
  EXPECT_EQ(c.HandoverNs(1), 2000 * kNsPerMs);                    // rank 0
  EXPECT_EQ(c.HandoverNs(10), 2000 * kNsPerMs + 300 * kNsPerMs);  // rank 3 at 10/s
  EXPECT_EQ(OwnedClass::From({true, 2, 1, 1, 0, -1}, 10).HandoverNs(5), kSinceStart);
}

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
