// BodyBudget: how many bytes of plan bodies (POST /v1/runs) the coordinator
// holds at once, received or being parsed, all clients together
// (--max-parsing-bytes). A request's declared Content-Length is reserved
// when its line and headers are in, before any byte of its body is read
// (rest_reader.h); the reservation is a BodyLease, which gives the bytes
// back when it is destroyed: when the request has been answered, when it is
// refused, or when its connection ends mid-body. So no reservation outlives
// the bytes it stands for, and none needs a timeout.
//
// Over the budget, Reserve refuses with kUnavailable (HTTP 503, retry-able):
// nothing changed, and the same request may pass once others are done.
// Thread-safe; the budget must outlive its leases.
#ifndef LOADD_DAEMON_COORDINATOR_BODY_BUDGET_H_
#define LOADD_DAEMON_COORDINATOR_BODY_BUDGET_H_

#include <cstddef>

#include "common/mutex.h"
#include "common/status.h"

namespace loadd {

class BodyBudget;

// Bytes reserved in a BodyBudget until destroyed (or Release()). Move-only;
// an empty lease holds nothing.
class BodyLease {
 public:
  BodyLease() = default;
  BodyLease(BodyLease&& other) noexcept;
  BodyLease& operator=(BodyLease&& other) noexcept;
  BodyLease(const BodyLease&) = delete;
  BodyLease& operator=(const BodyLease&) = delete;
  ~BodyLease() { Release(); }

  size_t bytes() const { return bytes_; }
  // Gives the bytes back now; the lease is then empty.
  void Release();

 private:
  friend class BodyBudget;
  BodyLease(BodyBudget* budget, size_t bytes) : budget_(budget), bytes_(bytes) {}

  BodyBudget* budget_ = nullptr;
  size_t bytes_ = 0;
};

class BodyBudget {
 public:
  // Reserves `bytes` into *lease (which gives back what it held first), or
  // kUnavailable, naming --max-parsing-bytes, when the bytes already
  // reserved plus these would pass budget_bytes. The budget is passed on
  // every call because a reload may change it; leases taken under a larger
  // one keep their bytes until released.
  Status Reserve(size_t bytes, size_t budget_bytes, BodyLease* lease);
  size_t reserved_bytes() const;

 private:
  friend class BodyLease;
  void Give(size_t bytes);

  mutable Mutex mu_;
  size_t reserved_bytes_ GUARDED_BY(mu_) = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_BODY_BUDGET_H_
