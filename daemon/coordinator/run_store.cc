#include "daemon/coordinator/run_store.h"

namespace loadd {

bool ValidRunId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Status MemoryRunStore::Put(const std::string& id, std::string_view state,
                           size_t first_second, const std::vector<std::string>& seconds) {
  if (!ValidRunId(id)) return Status::Invalid("id", "invalid run id \"" + id + "\"");
  MutexLock lock(&mu_);
  ++puts_;
  if (fail_puts_)
    return Status(StatusCode::kUnavailable, "memory store: puts fail (test)");
  if (state.size() > kMaxStateBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "run " + id + ": state over the size cap");
  }
  StoredRun& run = runs_[id];
  if (run.seconds.size() != first_second) {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + id + ": " + std::to_string(run.seconds.size()) +
                      " seconds stored, put starts at " + std::to_string(first_second));
  }
  run.state = state;
  run.seconds.insert(run.seconds.end(), seconds.begin(), seconds.end());
  return Status::Ok();
}

Result<StoredRun> MemoryRunStore::Get(const std::string& id) {
  MutexLock lock(&mu_);
  auto it = runs_.find(id);
  if (it == runs_.end())
    return Status(StatusCode::kNotFound, "no stored run " + id, "id");
  return it->second;
}

Result<std::vector<std::string>> MemoryRunStore::List() {
  MutexLock lock(&mu_);
  std::vector<std::string> ids;
  for (const auto& [id, run] : runs_) ids.push_back(id);
  return ids;
}

Status MemoryRunStore::Remove(const std::string& id) {
  MutexLock lock(&mu_);
  runs_.erase(id);
  return Status::Ok();
}

}  // namespace loadd
