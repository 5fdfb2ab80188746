#include "daemon/coordinator/body_budget.h"

#include <utility>

#include "daemon/coordinator/limits.h"

namespace loadd {

BodyLease::BodyLease(BodyLease&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)) {}

BodyLease& BodyLease::operator=(BodyLease&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void BodyLease::Release() {
  if (budget_ != nullptr) budget_->Give(bytes_);
  budget_ = nullptr;
  bytes_ = 0;
}

Status BodyBudget::Reserve(size_t bytes, size_t budget_bytes, BodyLease* lease) {
  lease->Release();
  MutexLock lock(&mu_);
  if (bytes > budget_bytes || reserved_bytes_ > budget_bytes - bytes) {
    return Status(StatusCode::kUnavailable,
                  "the coordinator is receiving and parsing " +
                      FormatBytes(reserved_bytes_) + " of other plans; this one (" +
                      FormatBytes(bytes) + ") would pass its budget of " +
                      FormatBytes(budget_bytes) +
                      " at once (--max-parsing-bytes): nothing changed, try again in "
                      "a moment");
  }
  reserved_bytes_ += bytes;
  *lease = BodyLease(this, bytes);
  return Status::Ok();
}

size_t BodyBudget::reserved_bytes() const {
  MutexLock lock(&mu_);
  return reserved_bytes_;
}

void BodyBudget::Give(size_t bytes) {
  MutexLock lock(&mu_);
  reserved_bytes_ -= bytes;
}

}  // namespace loadd
