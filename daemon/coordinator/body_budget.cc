#include "daemon/coordinator/body_budget.h"

#include <algorithm>

#include "daemon/coordinator/limits.h"

namespace loadd {

void BodyBudget::DropExpired(int64_t now_ns) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second.expires_ns <= now_ns) {
      reserved_bytes_ -= it->second.bytes;
      it = leases_.erase(it);
    } else {
      ++it;
    }
  }
}

Status BodyBudget::Reserve(const std::string& key, size_t bytes, size_t budget_bytes,
                           int64_t lease_ns) {
  int64_t now = clock_->NowNs();
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(now);
  if (auto it = leases_.find(key); it != leases_.end()) {
    reserved_bytes_ -= it->second.bytes;
    leases_.erase(it);
  }
  if (bytes > budget_bytes - std::min(budget_bytes, reserved_bytes_)) {
    return Status(StatusCode::kUnavailable,
                  "the coordinator is receiving and parsing " +
                      FormatBytes(reserved_bytes_) + " of other requests; this one (" +
                      FormatBytes(bytes) + ") would pass its budget of " +
                      FormatBytes(budget_bytes) +
                      " at once (--max-parsing-bytes); try again in a moment");
  }
  leases_[key] = Lease{bytes, now + lease_ns};
  reserved_bytes_ += bytes;
  return Status::Ok();
}

size_t BodyBudget::Release(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(key);
  if (it == leases_.end()) return 0;
  size_t bytes = it->second.bytes;
  reserved_bytes_ -= bytes;
  leases_.erase(it);
  return bytes;
}

size_t BodyBudget::reserved_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reserved_bytes_;
}

}  // namespace loadd
