#include "daemon/coordinator/run_queue.h"

#include <algorithm>

namespace loadd {

size_t RunQueue::Add(const std::string& id, int64_t priority) {
  if (size_t at = Position(id)) return at;
  // Behind every entry of the same priority or higher: first come first.
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.priority < priority; });
  it = entries_.insert(it, Entry{id, priority, next_seq_++, -1});
  return static_cast<size_t>(it - entries_.begin()) + 1;
}

bool RunQueue::Remove(const std::string& id) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.id == id; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

size_t RunQueue::Position(const std::string& id) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].id == id) return i + 1;
  }
  return 0;
}

RunQueue::Entry* RunQueue::Find(const std::string& id) {
  for (Entry& e : entries_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

}  // namespace loadd
