#include "daemon/coordinator/placement.h"

#include <gtest/gtest.h>

#include <map>

#include "daemon/coordinator/run_queue.h"

namespace loadd {
namespace {

std::vector<PlacementCandidate> Fleet(int hosts, int cores, const Labels& labels = {}) {
  std::vector<PlacementCandidate> fleet;
  for (int c = 0; c < cores; ++c) {
    for (int h = 0; h < hosts; ++h) {
      std::string host = "h" + std::to_string(h);
      fleet.push_back({host + "/" + std::to_string(c), host, c, labels, true});
    }
  }
  return fleet;
}

TEST(PlacementTest, ACountIsTakenHostsFirstThenCores) {
  // A run of 8 on 4 hosts x 16 cores gets 2 per host.
  Placement p = Place(WorkerSelector{8, {}}, 0, Fleet(4, 16));
  ASSERT_EQ(p.verdict, PlacementVerdict::kStart);
  ASSERT_EQ(p.worker_ids.size(), 8u);
  std::map<std::string, int> per_host;
  for (const std::string& id : p.worker_ids) ++per_host[id.substr(0, id.find('/'))];
  EXPECT_EQ(per_host,
            (std::map<std::string, int>{{"h0", 2}, {"h1", 2}, {"h2", 2}, {"h3", 2}}));
  // 2 hosts x 2 cores, count 2: one worker per host.
  p = Place(WorkerSelector{2, {}}, 0, Fleet(2, 2));
  EXPECT_EQ(p.worker_ids, (std::vector<std::string>{"h0/0", "h1/0"}));
}

TEST(PlacementTest, WithoutACountEveryMatchingWorkerAndNoneBusy) {
  std::vector<PlacementCandidate> fleet = Fleet(2, 2);
  EXPECT_EQ(Place(WorkerSelector{}, 0, fleet).worker_ids.size(), 4u);
  fleet[1].idle = false;
  Placement p = Place(WorkerSelector{}, 0, fleet);
  EXPECT_EQ(p.verdict, PlacementVerdict::kBusy);
  EXPECT_TRUE(p.worker_ids.empty());
  // A count that three idle workers can meet starts without the busy one.
  p = Place(WorkerSelector{3, {}}, 0, fleet);
  EXPECT_EQ(p.verdict, PlacementVerdict::kStart);
  EXPECT_EQ(p.worker_ids.size(), 3u);
  EXPECT_EQ(std::count(p.worker_ids.begin(), p.worker_ids.end(), fleet[1].worker_id), 0);
}

TEST(PlacementTest, LabelsSelectAndACountBeyondTheMatchesStartsShort) {
  std::vector<PlacementCandidate> fleet = Fleet(1, 2, {{"pool", "a"}});
  for (PlacementCandidate& c : Fleet(1, 2, {{"pool", "b"}, {"zone", "x"}})) {
    c.host = "other";
    c.worker_id = "other/" + std::to_string(c.instance);
    fleet.push_back(c);
  }
  Placement b = Place(WorkerSelector{0, {{"pool", "b"}}}, 0, fleet);
  EXPECT_EQ(b.worker_ids, (std::vector<std::string>{"other/0", "other/1"}));
  // Every label must match.
  EXPECT_EQ(Place(WorkerSelector{0, {{"pool", "b"}, {"zone", "y"}}}, 0, fleet).verdict,
            PlacementVerdict::kNoMatch);
  // count 8 of 2 matching: starts with the 2 (short; later ones join).
  Placement a = Place(WorkerSelector{8, {{"pool", "a"}}}, 0, fleet);
  EXPECT_EQ(a.verdict, PlacementVerdict::kStart);
  EXPECT_EQ(a.worker_ids.size(), 2u);
}

TEST(PlacementTest, ExpectWorkersWaitsForThatManyIdleMatchingWorkers) {
  std::vector<PlacementCandidate> fleet = Fleet(1, 2);
  EXPECT_EQ(Place(WorkerSelector{}, 3, fleet).verdict, PlacementVerdict::kShort);
  EXPECT_EQ(Place(WorkerSelector{}, 3, {}).verdict, PlacementVerdict::kShort);
  EXPECT_EQ(Place(WorkerSelector{}, 0, {}).verdict, PlacementVerdict::kNoMatch);
  fleet.push_back({"h9/0", "h9", 0, {}, false});
  // Three are live, one busy: it waits in the queue, not for registrations.
  EXPECT_EQ(Place(WorkerSelector{1, {}}, 3, fleet).verdict, PlacementVerdict::kBusy);
  fleet.back().idle = true;
  Placement p = Place(WorkerSelector{1, {}}, 3, fleet);
  EXPECT_EQ(p.verdict, PlacementVerdict::kStart);
  EXPECT_EQ(p.worker_ids.size(), 1u);
}

TEST(RunQueueTest, HigherPriorityFirstThenFirstCome) {
  RunQueue q;
  EXPECT_EQ(q.Add("a", 0), 1u);
  EXPECT_EQ(q.Add("b", 0), 2u);
  EXPECT_EQ(q.Add("c", 5), 1u);
  EXPECT_EQ(q.Add("d", -1), 4u);
  EXPECT_EQ(q.Add("e", 5), 2u);
  EXPECT_EQ(q.Add("a", 9), 3u);  // already queued: keeps its place
  std::vector<std::string> order;
  for (const RunQueue::Entry& e : q.entries()) order.push_back(e.id);
  EXPECT_EQ(order, (std::vector<std::string>{"c", "e", "a", "b", "d"}));
  EXPECT_TRUE(q.Remove("e"));
  EXPECT_FALSE(q.Remove("e"));
  EXPECT_EQ(q.Position("a"), 2u);
  EXPECT_EQ(q.Position("e"), 0u);
  EXPECT_EQ(q.size(), 4u);
}

}  // namespace
}  // namespace loadd
