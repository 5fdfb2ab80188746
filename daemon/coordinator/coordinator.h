// Coordinator: the fleet's control state: registered workers and their
// liveness, runs, and the merge of every worker's statistics.
//
// Thread-safe: the bus thread, the REST threads and the ticker call in
// concurrently; one mutex guards all state. The outside world is passed in
// (FleetBus to reach workers, Clock for time), so tests drive it with fakes.
#ifndef LOADD_DAEMON_COORDINATOR_COORDINATOR_H_
#define LOADD_DAEMON_COORDINATOR_COORDINATOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "common/wire.h"
#include "daemon/coordinator/run.h"

namespace loadd {

// Sends to one connected worker, identified by its bus pipe id.
class FleetBus {
 public:
  virtual ~FleetBus() = default;
  virtual void SendTo(uint32_t pipe, const std::string& bytes) = 0;
};

struct CoordinatorConfig {
  int64_t heartbeat_timeout_ms = 3000;  // silence after which a worker is lost
  int64_t start_delay_ms = 300;         // lead time for every worker to get its share
  int64_t finish_grace_ms = 5000;       // wait for final stats past graceful_stop
  int64_t lost_worker_keep_ms = 60'000; // lost workers stay listed this long
  size_t max_runs_kept = 100;           // finished runs kept in memory
};

class Coordinator {
 public:
  Coordinator(FleetBus* bus, const Clock* clock, CoordinatorConfig config = {});

  // Bus side.
  void OnConnect(uint32_t pipe);
  void OnDisconnect(uint32_t pipe);
  void OnMessage(uint32_t pipe, std::string_view bytes);
  // Liveness, pings, state changes, timeline; call about every 100 ms.
  void Tick();

  // REST side; each returns a JSON document or a Status for the error reply.
  Result<std::string> CreateRun(std::string_view plan_json);
  Result<std::string> StopRun(const std::string& id);
  Result<std::string> GetRun(const std::string& id, bool timeline);
  // The run's HdrHistogram interval log (text, docs/rest-api.md).
  Result<std::string> GetRunHlog(const std::string& id);
  std::string ListRuns();
  std::string ListWorkers();
  std::string Health();

  size_t LiveWorkers();

 private:
  struct WorkerEntry {
    uint32_t pipe = 0;
    HelloMsg hello;
    std::string id;
    bool registered = false;
    bool lost = false;
    int64_t last_seen_ns = 0;
    int64_t connected_ns = 0;
    int64_t lost_ns = 0;
    std::string run_id;
    int64_t users = 0;
    double cpu_percent = 0;
  };

  static constexpr size_t kMaxHelloBytes = 4096;
  // Registered, live, and not still busy with an earlier run.
  static bool Idle(const WorkerEntry& w) { return w.registered && !w.lost && w.run_id.empty(); }
  void Revive(WorkerEntry* w);
  void HandleHello(WorkerEntry* w, HelloMsg hello);
  void HandleStats(WorkerEntry* w, const StatsMsg& stats);
  void MarkLost(WorkerEntry* w, const char* why);
  void MaybeFinish(Run* run, int64_t now);
  // Sends StopMsg to every worker of the run still carrying load.
  void StopWorkers(const Run& run);
  // Assigns the run to every live worker in striped order.
  void Launch(Run* run, int64_t now);
  // A worker of the run was lost: deal its classes out to the others.
  void Redeal(Run* run, RunWorker* lost, int64_t now);
  // A worker registered while the run goes on: give it a fair share.
  void Join(Run* run, WorkerEntry* w, int64_t now);
  bool Rebalanceable(const Run& run, int64_t now) const;
  Run* ActiveRun();
  std::string NewRunId();

  FleetBus* bus_;
  const Clock* clock_;
  CoordinatorConfig config_;
  std::mutex mu_;
  std::map<uint32_t, WorkerEntry> workers_;            // GUARDED_BY(mu_), by pipe
  std::map<std::string, std::unique_ptr<Run>> runs_;   // GUARDED_BY(mu_)
  std::vector<std::string> run_order_;                 // GUARDED_BY(mu_), oldest first
  int64_t last_ping_ns_ = 0;                           // GUARDED_BY(mu_)
  uint64_t run_counter_ = 0;                           // GUARDED_BY(mu_)
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_COORDINATOR_H_
