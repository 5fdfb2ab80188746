// RunQueue: the runs that wait for workers, in the order they start:
// higher plan priority first, then first come (docs/rest-api.md, "The run
// queue"). A run is in it from its POST until it is placed on workers or
// ends (cancelled, or its expect_workers did not turn up in time); both
// "queued" runs (their workers are busy) and "waiting" ones (too few
// workers are live) hold a place.
//
// Pure bookkeeping: no lock, clock, bus or store of its own; not
// thread-safe (the Coordinator holds its lock around every call). The bound
// (--max-queued) is the caller's to apply: it knows whether a run would
// start at once.
#ifndef LOADD_DAEMON_COORDINATOR_RUN_QUEUE_H_
#define LOADD_DAEMON_COORDINATOR_RUN_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace loadd {

class RunQueue {
 public:
  struct Entry {
    std::string id;
    int64_t priority = 0;
    uint64_t seq = 0;  // arrival order: ties in priority go first come
    // Coordinator time since which the run waits for workers to register
    // (its expect_timeout runs from there); -1: not waiting.
    int64_t waiting_since_ns = -1;
  };

  // Places the run behind every run of its priority or higher and returns
  // its 1-based position. An id already queued keeps its place.
  size_t Add(const std::string& id, int64_t priority);
  // False if it was not queued.
  bool Remove(const std::string& id);
  // 1-based; 0 when the id is not queued.
  size_t Position(const std::string& id) const;
  Entry* Find(const std::string& id);
  // In start order.
  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;  // in start order
  uint64_t next_seq_ = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_RUN_QUEUE_H_
