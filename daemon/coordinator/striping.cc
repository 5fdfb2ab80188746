#include "daemon/coordinator/striping.h"

#include <algorithm>
#include <map>

namespace loadd {

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

}  // namespace loadd
