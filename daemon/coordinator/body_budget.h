// BodyBudget: how many bytes of request bodies the REST API receives and
// parses at once, over every client together (--max-parsing-bytes). A
// request's declared Content-Length is reserved when its headers are in,
// before any byte of its body is read, and given back when its handler
// returns. A reservation whose handler never runs (the client went away
// mid-body) lapses after its lease, which outlasts the REST body timeout.
// Over budget, the request is refused with kUnavailable (HTTP 503): trying
// again once others are done may succeed. Thread-safe.
#ifndef LOADD_DAEMON_COORDINATOR_BODY_BUDGET_H_
#define LOADD_DAEMON_COORDINATOR_BODY_BUDGET_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace loadd {

class BodyBudget {
 public:
  explicit BodyBudget(const Clock* clock) : clock_(clock) {}

  // Reserves `bytes` for the request on connection `key` (one request at a
  // time per connection: a key's earlier reservation is replaced) until
  // Release(key) or lease_ns from now. kUnavailable, naming the budget and
  // the flag, when the bytes reserved would pass budget_bytes.
  Status Reserve(const std::string& key, size_t bytes, size_t budget_bytes,
                 int64_t lease_ns);
  // Gives back key's reservation, if any; the bytes it had.
  size_t Release(const std::string& key);
  size_t reserved_bytes() const;

 private:
  struct Lease {
    size_t bytes = 0;
    int64_t expires_ns = 0;
  };
  void DropExpired(int64_t now_ns);  // mu_ held

  const Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, Lease> leases_;  // GUARDED_BY(mu_), by connection
  size_t reserved_bytes_ = 0;            // GUARDED_BY(mu_), sum of leases_
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_BODY_BUDGET_H_
