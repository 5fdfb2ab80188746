#include "daemon/coordinator/fleet_registry.h"

#include <utility>

#include "common/log.h"
#include "common/units.h"

namespace loadd {

WorkerEntry* FleetRegistry::OnConnect(uint32_t pipe, int64_t now_ns) {
  WorkerEntry& w = workers_[pipe];
  w.pipe = pipe;
  w.connected_ns = w.last_seen_ns = now_ns;
  return &w;
}

WorkerEntry* FleetRegistry::Find(uint32_t pipe) {
  auto it = workers_.find(pipe);
  return it == workers_.end() ? nullptr : &it->second;
}

WorkerEntry* FleetRegistry::FindOrAdd(uint32_t pipe, int64_t now_ns) {
  auto [it, added] = workers_.try_emplace(pipe);
  if (added) {
    it->second.pipe = pipe;
    it->second.connected_ns = now_ns;
  }
  return &it->second;
}

void FleetRegistry::Forget(uint32_t pipe) { workers_.erase(pipe); }

const std::string& FleetRegistry::Register(WorkerEntry* w, HelloMsg hello) {
  std::string id = hello.host + "/" + std::to_string(hello.instance);
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->first != w->pipe && it->second.id == id) {
      if (!it->second.lost) {
        LOG_WARN("two live workers call themselves %s; check --host-id and --instance",
                 id.c_str());
        id += "#" + std::to_string(w->pipe);
        break;
      }
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  w->id = std::move(id);
  w->hello = std::move(hello);
  w->registered = true;
  w->lost = false;
  w->run_id = w->hello.run_id;
  return w->id;
}

bool FleetRegistry::MarkLost(WorkerEntry* w, int64_t now_ns) {
  if (w->lost) return false;
  w->lost = true;
  w->lost_ns = now_ns;
  return true;
}

bool FleetRegistry::Revive(WorkerEntry* w) {
  w->lost = false;
  return !w->run_id.empty();
}

std::vector<uint32_t> FleetRegistry::Silent(int64_t now_ns,
                                            int64_t delivered_up_to_ns) const {
  const int64_t timeout_ns = config_.heartbeat_timeout_ms * kNsPerMs;
  int64_t heard_up_to = std::max(delivered_up_to_ns, now_ns - kMaxJudgeLag * timeout_ns);
  std::vector<uint32_t> silent;
  for (const auto& [pipe, w] : workers_) {
    if (w.Live() && heard_up_to - w.last_seen_ns > timeout_ns) silent.push_back(pipe);
  }
  return silent;
}

void FleetRegistry::ForgetLongLost(int64_t now_ns) {
  std::erase_if(workers_, [&](const auto& entry) {
    const WorkerEntry& w = entry.second;
    return w.lost && now_ns - w.lost_ns > config_.lost_worker_keep_ms * kNsPerMs;
  });
}

std::vector<WorkerEntry*> FleetRegistry::Idle() {
  std::vector<WorkerEntry*> idle;
  for (auto& [pipe, w] : workers_) {
    if (w.Idle()) idle.push_back(&w);
  }
  return idle;
}

size_t FleetRegistry::CountIdle() const {
  return std::count_if(workers_.begin(), workers_.end(),
                       [](const auto& entry) { return entry.second.Idle(); });
}

size_t FleetRegistry::CountLive() const {
  return std::count_if(workers_.begin(), workers_.end(),
                       [](const auto& entry) { return entry.second.Live(); });
}

std::vector<uint32_t> FleetRegistry::LivePipes() const {
  std::vector<uint32_t> pipes;
  for (const auto& [pipe, w] : workers_) {
    if (w.Live()) pipes.push_back(pipe);
  }
  return pipes;
}

bool FleetRegistry::PingDue(int64_t now_ns) {
  if (now_ns - last_ping_ns_ < HeartbeatIntervalMs() * kNsPerMs) return false;
  last_ping_ns_ = now_ns;
  return true;
}

std::vector<uint32_t> FleetRegistry::ReleaseRun(const std::string& run_id) {
  std::vector<uint32_t> freed;
  for (auto& [pipe, w] : workers_) {
    if (w.run_id != run_id) continue;
    w.run_id.clear();
    freed.push_back(pipe);
  }
  return freed;
}

}  // namespace loadd
