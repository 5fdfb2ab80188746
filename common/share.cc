#include "common/share.h"

#include <cmath>
#include <functional>
#include <map>
#include <queue>
#include <utility>

namespace loadd {
namespace {

constexpr int64_t kPartsPerHeir = 8;
constexpr int64_t kMaxOpenModulus = int64_t{1} << 40;

}  // namespace

std::vector<StripeMember> StripeOrder(std::vector<StripeMember> members) {
  std::map<std::string, std::vector<StripeMember>> by_host;
  for (StripeMember& m : members) by_host[m.host].push_back(std::move(m));
  size_t depth = 0;
  for (auto& [host, list] : by_host) {
    std::sort(list.begin(), list.end(), [](const StripeMember& a, const StripeMember& b) {
      return a.instance != b.instance ? a.instance < b.instance
                                      : a.worker_id < b.worker_id;
    });
    depth = std::max(depth, list.size());
  }
  std::vector<StripeMember> order;
  for (size_t core = 0; core < depth; ++core) {
    for (auto& [host, list] : by_host) {
      if (core < list.size()) order.push_back(list[core]);
    }
  }
  return order;
}

double ClassWeight(int64_t users, int64_t modulus, int64_t residue) {
  return users > 0 ? static_cast<double>(CountInClass(users, modulus, residue))
                   : 1.0 / static_cast<double>(modulus);
}

int64_t UsersInShare(const Share& share, int64_t users) {
  int64_t n = 0;
  for (const ShareChange& c : share) n += CountInClass(users, c.modulus, c.residue);
  return n;
}

std::vector<ShareChange> Orphans(const std::vector<Share>& leaving, int64_t users) {
  std::vector<ShareChange> orphans;
  for (const Share& share : leaving) {
    for (const ShareChange& c : share) {
      // A class without users (fewer users than classes) has nothing to move.
      if (users == 0 || CountInClass(users, c.modulus, c.residue) > 0) {
        orphans.push_back(c);
      }
    }
  }
  return orphans;
}

Deal DealOut(const std::vector<Share>& leaving, const std::vector<Share>& heirs,
             int64_t users, int64_t at_ms, double handover_rate) {
  Deal deal;
  deal.orphans = Orphans(leaving, users);
  deal.gains.resize(heirs.size());
  if (deal.orphans.empty() || heirs.empty()) return deal;
  auto weight = [users](int64_t modulus, int64_t residue) {
    return ClassWeight(users, modulus, residue);
  };
  const int64_t m = static_cast<int64_t>(heirs.size());
  // Parts aim at 1/kPartsPerHeir of what each heir gains: one worker's
  // single class lost is split m ways (one part per heir, as even as it
  // goes); a rack of workers lost at once gives each heir a few parts, not
  // one per lost class, whatever the number lost.
  double moved = 0;
  for (const ShareChange& c : deal.orphans) moved += weight(c.modulus, c.residue);
  double part_weight = moved / static_cast<double>(kPartsPerHeir * m);
  if (users > 0) part_weight = std::max(1.0, part_weight);
  struct Part {
    ShareChange change;
    double weight;
  };
  std::vector<Part> parts;
  for (const ShareChange& c : deal.orphans) {
    int64_t most = users > 0 ? std::min(m, CountInClass(users, c.modulus, c.residue))
                             : std::min(m, kMaxOpenModulus / c.modulus);
    most = std::max<int64_t>(1, most);
    int64_t p = std::clamp<int64_t>(
        static_cast<int64_t>(std::ceil(weight(c.modulus, c.residue) / part_weight)), 1,
        most);
    // Ranks count along the parent class so the fleet restarts them at the
    // ramp rate, not all at once.
    for (int64_t j = 0; j < p; ++j) {
      ShareChange part{true,      c.modulus * p, c.residue + c.modulus * j,
                       c.modulus, c.residue,     at_ms};
      parts.push_back(Part{part, weight(part.modulus, part.residue)});
    }
  }
  std::stable_sort(parts.begin(), parts.end(),
                   [](const Part& a, const Part& b) { return a.weight > b.weight; });
  using Load = std::pair<double, size_t>;  // weight held, heir index
  std::priority_queue<Load, std::vector<Load>, std::greater<Load>> lightest;
  for (size_t j = 0; j < heirs.size(); ++j) {
    double held = 0;
    for (const ShareChange& c : heirs[j]) {
      held += (c.add ? 1 : -1) * weight(c.modulus, c.residue);
    }
    lightest.push({held, j});
  }
  for (const Part& part : parts) {
    auto [held, j] = lightest.top();
    lightest.pop();
    deal.gains[j].push_back(part.change);
    lightest.push({held + part.weight, j});
  }
  deal.rate = handover_rate / static_cast<double>(deal.orphans.size());
  return deal;
}

bool SplitForNewcomer(const std::vector<Share>& donors, int64_t users, int64_t at_ms,
                      double handover_rate, size_t max_classes, JoinSplit* join) {
  const int64_t n = static_cast<int64_t>(donors.size());
  if (n == 0) return false;
  for (const Share& d : donors) {
    if (d.size() * n > max_classes) return false;
  }
  JoinSplit out;
  size_t parents = 0;
  // The n+1 parts of a class differ by at most one index. Which one the
  // newcomer takes is chosen so that what it holds stays within one user
  // of its fair share: always taking the same part would leave it short by
  // up to one user per class, and classes multiply as runs go on.
  double ahead = 0;  // users taken minus the fair share of the classes so far
  for (const Share& d : donors) {
    Share kept, given;
    for (const ShareChange& c : d) {
      // Split (M, r) into n+1 parts: the donor keeps n, the newcomer takes one.
      const int64_t M = c.modulus * (n + 1);
      auto part = [&](int64_t j) {
        return ShareChange{
            true, M, c.residue + c.modulus * j, M, c.residue + c.modulus * j, at_ms};
      };
      int64_t take = n;  // the last part: the smallest when they differ
      if (users > 0) {
        double fair = static_cast<double>(CountInClass(users, c.modulus, c.residue)) /
                      static_cast<double>(n + 1);
        // Part 0 is the largest: take it when behind.
        if (ahead < 0) take = 0;
        ahead += static_cast<double>(CountInClass(users, M, part(take).residue)) - fair;
      }
      for (int64_t j = 0; j <= n; ++j) (j == take ? given : kept).push_back(part(j));
      ++parents;
    }
    Share removals = given;
    for (ShareChange& r : removals) r.add = false;
    out.taken.insert(out.taken.end(), given.begin(), given.end());
    out.kept.push_back(std::move(kept));
    out.removals.push_back(std::move(removals));
  }
  // Parts of different donors interleave fleet-wide: pace each part at an
  // equal slice of the ramp rate.
  out.rate = handover_rate / static_cast<double>(std::max<size_t>(parents, 1));
  *join = std::move(out);
  return true;
}

int64_t OwnedClass::HandoverNs(int64_t i) const {
  if (at_ns == kSinceStart) return kSinceStart;
  int64_t rank = i >= rank_residue ? (i - rank_residue) / rank_modulus : 0;
  double delay_ns = std::min(static_cast<double>(rank) * 1e9 / rate, 1e17);
  return at_ns + static_cast<int64_t>(delay_ns);
}

}  // namespace loadd
