#include "daemon/worker/coordinator_watch.h"

#include <algorithm>

namespace loadd {

void CoordinatorWatch::OnWelcome(int64_t heartbeat_ms, int64_t heartbeat_timeout_ms) {
  heartbeat_ms_ = std::clamp<int64_t>(heartbeat_ms, 10, 1000);
  heartbeat_timeout_ms_ = std::max<int64_t>(0, heartbeat_timeout_ms);
}

int64_t CoordinatorWatch::limit_ms() const {
  if (heartbeat_timeout_ms_ <= 0) return grace_ms_;
  return std::min(grace_ms_, heartbeat_timeout_ms_);
}

bool CoordinatorWatch::Heard(int64_t now_ns) {
  bool went_adrift = !adrift_ && Silent(now_ns);
  last_heard_ns_ = now_ns;
  adrift_ = false;
  return went_adrift;
}

bool CoordinatorWatch::Check(int64_t now_ns) {
  if (adrift_ || !Silent(now_ns)) return false;
  adrift_ = true;
  return true;
}

}  // namespace loadd
