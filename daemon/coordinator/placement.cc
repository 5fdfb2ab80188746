#include "daemon/coordinator/placement.h"

#include <algorithm>

#include "common/share.h"

namespace loadd {

bool LabelsMatch(const Labels& want, const Labels& have) {
  for (const auto& [key, value] : want) {
    auto it = have.find(key);
    if (it == have.end() || it->second != value) return false;
  }
  return true;
}

Placement Place(const WorkerSelector& want, int64_t expect_workers,
                const std::vector<PlacementCandidate>& live) {
  Placement p;
  std::vector<StripeMember> idle;
  for (const PlacementCandidate& c : live) {
    if (!LabelsMatch(want.labels, c.labels)) continue;
    ++p.matching;
    if (!c.idle) continue;
    ++p.matching_idle;
    idle.push_back({c.host, c.instance, c.worker_id});
  }
  // Without a count: all of them; with one: that many, or all when fewer
  // are live (the run starts short).
  int64_t wanted = want.count > 0 ? std::min(want.count, p.matching) : p.matching;
  p.needed = std::max<int64_t>({1, wanted, expect_workers});
  if (p.matching_idle >= p.needed) {
    p.verdict = PlacementVerdict::kStart;
    std::vector<StripeMember> order = StripeOrder(std::move(idle));
    int64_t take = want.count > 0 ? std::min<int64_t>(want.count, order.size())
                                  : static_cast<int64_t>(order.size());
    for (int64_t i = 0; i < take; ++i) p.worker_ids.push_back(order[i].worker_id);
  } else if (p.matching >= p.needed) {
    p.verdict = PlacementVerdict::kBusy;
  } else if (p.matching == 0 && expect_workers == 0) {
    p.verdict = PlacementVerdict::kNoMatch;
  } else {
    p.verdict = PlacementVerdict::kShort;
  }
  return p;
}

std::string DescribeSelector(const WorkerSelector& want) {
  std::string labels =
      want.labels.empty() ? "" : " with labels " + FormatLabels(want.labels);
  if (want.count > 0) return std::to_string(want.count) + " worker(s)" + labels;
  return "every live worker" + labels;
}

}  // namespace loadd
