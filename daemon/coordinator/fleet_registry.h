// FleetRegistry: the coordinator's table of workers, one entry per bus pipe:
// who said hello (identity, host, cores), whether it is live or lost, which
// run it is busy with, and its last load figures.
//
// Contract:
// - Pure bookkeeping: no lock of its own, no bus, no clock. Time is passed
//   in (`now_ns`, the coordinator's monotonic clock); the caller sends
//   whatever the answers call for (welcome, ping, stop). Not thread-safe:
//   the Coordinator holds its lock around every call.
// - An entry exists from OnConnect (or the first message on an unknown
//   pipe) until Forget, or until it has been lost for longer than
//   lost_worker_keep_ms (ForgetLongLost). Only registered entries (a hello
//   was heard) count as workers; the others are pipes waiting for a hello.
// - Liveness: a registered worker not heard from for heartbeat_timeout_ms
//   is silent (Silent); the caller marks it lost. A message from a lost
//   worker revives it (Revive).
// - Pointers returned stay valid until that entry is forgotten (the table
//   is a std::map: other insertions and erasures do not move it).
// - Which workers a run may use is asked here (Idle, in pipe order), so the
//   coordinator does not assume that every live worker is its run's. A
//   worker is busy with at most one run (run_id); several runs go on at
//   once on disjoint workers (placement.h).
#ifndef LOADD_DAEMON_COORDINATOR_FLEET_REGISTRY_H_
#define LOADD_DAEMON_COORDINATOR_FLEET_REGISTRY_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/wire.h"

namespace loadd {

struct WorkerEntry {
  uint32_t pipe = 0;
  HelloMsg hello;
  std::string id;  // "host/instance" (a duplicate gets "#pipe"); set by Register
  bool registered = false;
  bool lost = false;
  int64_t last_seen_ns = 0;
  int64_t connected_ns = 0;
  int64_t lost_ns = 0;
  std::string run_id;  // the run it is busy with; empty: none
  int64_t users = 0;
  double cpu_percent = 0;
  // The coordinator's hint: where it last was in its run's workers(), so
  // stats find their RunWorker without scanning the run (checked on use).
  size_t run_slot = 0;

  // Registered, live, and not still busy with an earlier run.
  bool Idle() const { return registered && !lost && run_id.empty(); }
  bool Live() const { return registered && !lost; }
};

struct FleetConfig {
  int64_t heartbeat_timeout_ms = 3000;   // silence after which a worker is lost
  int64_t lost_worker_keep_ms = 60'000;  // lost workers stay listed this long
};

class FleetRegistry {
 public:
  explicit FleetRegistry(FleetConfig config) : config_(config) {}

  // Heartbeats (worker) and pings (coordinator) go this often: a third of
  // the heartbeat timeout, 100 ms to 1 s, so one late message is no loss.
  int64_t HeartbeatIntervalMs() const {
    return std::clamp<int64_t>(config_.heartbeat_timeout_ms / 3, 100, 1000);
  }
  int64_t heartbeat_timeout_ms() const { return config_.heartbeat_timeout_ms; }

  // A pipe connected (or an existing entry's pipe reconnected): its entry,
  // heard from now.
  WorkerEntry* OnConnect(uint32_t pipe, int64_t now_ns);
  // The entry of `pipe`, or null.
  WorkerEntry* Find(uint32_t pipe);
  // The entry of `pipe`, created unregistered if it was forgotten while the
  // pipe stayed open (it may say hello again).
  WorkerEntry* FindOrAdd(uint32_t pipe, int64_t now_ns);
  // Drops the entry of `pipe` (a goodbye, or a pipe gone before its hello).
  void Forget(uint32_t pipe);

  // Registers the worker on w's pipe from its hello and returns its id
  // ("host/instance"). The same worker on a new pipe replaces its lost
  // entry; a live one with the same identity is another process (a
  // duplicate --host-id): kept apart, and the newcomer's id gets "#pipe".
  // The worker is live and busy with the run its hello names (if any).
  const std::string& Register(WorkerEntry* w, HelloMsg hello);

  // Marks w lost at now_ns; false if it already was.
  bool MarkLost(WorkerEntry* w, int64_t now_ns);
  // A lost worker spoke again: live once more. True if it must be told to
  // stop its run (w->run_id): its share was dealt to others when it was lost.
  bool Revive(WorkerEntry* w);

  // Registered live workers not heard from for longer than the timeout,
  // judged up to what the bus has delivered (FleetBus::DeliveredUpToNs):
  // past that, a heartbeat may be waiting in a busy coordinator's queue. A
  // coordinator that never catches up still judges, kMaxJudgeLag timeouts
  // late at most, so a dead worker is always found. Pipes, in order.
  std::vector<uint32_t> Silent(int64_t now_ns, int64_t delivered_up_to_ns) const;
  // Forgets workers lost for longer than lost_worker_keep_ms.
  void ForgetLongLost(int64_t now_ns);

  // Idle workers (WorkerEntry::Idle), in pipe order: the ones a run may take.
  std::vector<WorkerEntry*> Idle();
  size_t CountIdle() const;
  size_t CountLive() const;
  // Pipes of the live workers, in order (pings).
  std::vector<uint32_t> LivePipes() const;
  // True when a ping round is due at now_ns (every HeartbeatIntervalMs);
  // the round counts as done.
  bool PingDue(int64_t now_ns);
  // The run ended: every worker still busy with it is idle again. Returns
  // their pipes, in order.
  std::vector<uint32_t> ReleaseRun(const std::string& run_id);

  // Every entry, by pipe (registered or not), for views and metrics.
  const std::map<uint32_t, WorkerEntry>& entries() const { return workers_; }

  static constexpr int64_t kMaxJudgeLag = 3;

 private:
  FleetConfig config_;
  std::map<uint32_t, WorkerEntry> workers_;  // by pipe
  int64_t last_ping_ns_ = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_FLEET_REGISTRY_H_
