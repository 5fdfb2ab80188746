// Coordinator: the fleet's control state: it orchestrates the fleet
// registry (fleet_registry.h: workers and their liveness), the runs (run.h:
// state, stats merge, thresholds), the share arithmetic (common/share.h)
// and the run store, and talks to workers over the FleetBus.
//
// Thread-safe: the bus thread, the REST threads, the ticker and the
// persister call in concurrently; one mutex (mu_) guards all state. The
// outside world is passed in (FleetBus to reach workers, Clock for time,
// RunStore for the disk), so tests drive it with fakes.
//
// No I/O under mu_: bus messages decided under it are queued in an outbox
// and sent once it is released, by the same public call (SendAll), in the
// order they were queued (so per pipe too), whichever thread queued them;
// snapshots are likewise built under mu_ and written without it (Persist).
//
// Many runs at once, each on its own workers: a worker belongs to at most
// one run (placement.h decides which workers a run gets); a run whose
// workers are busy waits in the run queue (run_queue.h, bounded by
// max_queued) and starts in queue order when they are free
// (coordinator_queue.cc). A worker that registers or is freed goes first to
// a running run short of its count, then to the queue.
//
// Runs outlive the process through the RunStore: Persist() (its own
// thread) writes each active run at most every persist_interval_ms while it
// changes and at least every second (a queued run: when it changes), and a
// run that ended once more; an ended run is then dropped from memory and
// served from the store. LoadStoredRuns() at start lists every stored run,
// marks the ones that were active `interrupted`, and puts the queued ones
// back in the queue in their order (docs/operations.md, "State directory").
#ifndef LOADD_DAEMON_COORDINATOR_COORDINATOR_H_
#define LOADD_DAEMON_COORDINATOR_COORDINATOR_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/bus_auth.h"  // LogLimiter
#include "common/clock.h"
#include "common/mutex.h"
#include "common/run_filter.h"
#include "common/status.h"
#include "common/wire.h"
#include "daemon/coordinator/fleet_registry.h"
#include "daemon/coordinator/limits.h"
#include "daemon/coordinator/placement.h"
#include "daemon/coordinator/run.h"
#include "daemon/coordinator/run_queue.h"
#include "daemon/coordinator/run_store.h"
#include "daemon/coordinator/scale_request.h"

namespace loadd {

struct FleetMetrics;  // metrics.h
struct RunMetrics;

// Sends to one connected worker, identified by its bus pipe id.
class FleetBus {
 public:
  virtual ~FleetBus() = default;
  virtual void SendTo(uint32_t pipe, const std::string& bytes) = 0;
  // Every message that reached the bus before this time (the coordinator's
  // clock) has been delivered. A coordinator that has fallen behind has
  // messages queued that may be some worker's heartbeat: silence is judged
  // up to this time, not up to now, so an overloaded coordinator does not
  // declare its whole fleet lost (and reshare to it). Default: never behind.
  virtual int64_t DeliveredUpToNs(int64_t now_ns) const { return now_ns; }
};

struct CoordinatorConfig {
  int64_t heartbeat_timeout_ms = 3000;   // silence after which a worker is lost
  int64_t start_delay_ms = 300;          // lead time for every worker to get its share
  int64_t finish_grace_ms = 5000;        // wait for final stats past graceful_stop
  int64_t lost_worker_keep_ms = 60'000;  // lost workers stay listed this long
  // Retention of ended runs: the newest retention_runs, none older than
  // retention_days; applied at start and whenever a run ends.
  int64_t retention_runs = 1000;
  int64_t retention_days = 30;
  int64_t persist_interval_ms = 100;  // an active run that changed is written this often
  // Runs waiting in the run queue at most (--max-queued); past it a run
  // that would queue is refused (429).
  int64_t max_queued = 100;
  // Wall clock, ns since the Unix epoch; empty: the real one.
  std::function<int64_t()> wall_now_ns;
};

class Coordinator {
 public:
  // store: where runs are kept (not owned; must outlive this). nullptr:
  // an in-memory store of the coordinator's own.
  Coordinator(FleetBus* bus, const Clock* clock, CoordinatorConfig config = {},
              RunStore* store = nullptr);

  // Loads every stored run (call once, before serving): runs that were
  // active are marked interrupted and written back; damaged ones are
  // skipped with a log line naming the file. Fails only when the store
  // cannot be listed.
  Status LoadStoredRuns();
  // Writes what is due to the store (see above); call about every 50 ms
  // from one thread that is neither a REST nor the bus thread.
  void Persist();
  // For that thread: returns at once (true) when a write became due that
  // must not wait for the next round (a run was created or ended), else
  // after timeout_ms (false). Without it, a run that ended waited up to a
  // round before it reached the disk, and a kill -9 then lost it.
  bool WaitPersistDue(int64_t timeout_ms) EXCLUDES(wake_mu_);

  // Bus side.
  void OnConnect(uint32_t pipe);
  void OnDisconnect(uint32_t pipe);
  void OnMessage(uint32_t pipe, std::string_view bytes);
  // Liveness, pings, state changes, timeline; call about every 100 ms.
  void Tick();

  // REST side; each returns a JSON document or a Status for the error reply.
  // `check` (operator limits, rest_api.cc) vets the parsed plan before
  // anything else happens; its error is returned as is.
  // started_by: the name of the token that asks (the run's started_by).
  using PlanCheck = std::function<Status(const Plan&)>;
  Result<std::string> CreateRun(std::string_view plan_json,
                                const PlanCheck& check = nullptr,
                                std::string started_by = "");
  // `may_stop` (roles, rest_api.cc) is given the run's started_by once the
  // run is known to be active; its error is returned as is.
  using StopCheck = std::function<Status(const std::string& started_by)>;
  Result<std::string> StopRun(const std::string& id, const StopCheck& may_stop = nullptr);
  // Live scaling (PATCH /v1/runs/{id}, coordinator_scale.cc): moves a
  // starting or running run to the request's level at the plan's steepest
  // ramp (LoadProfile::SteepestRate; none: a step), from run time now +
  // start_delay_ms on every worker alike, and records the change as an
  // event (`by`: the token's name). `may_act` (roles) is given the run's
  // started_by once the run is known; its error is returned as is. A
  // request for the other model, or a run that is not going, or too late
  // (past its end), changes nothing. Returns {"id", "event"}.
  Result<std::string> ScaleRun(const std::string& id, const ScaleRequest& request,
                               const StopCheck& may_act = nullptr, std::string by = "");
  // How many runs that `started_by` started are active or queued (not final).
  int64_t ActiveRunsStartedBy(const std::string& started_by);
  // The run as JSON; with the timeline's seconds from since_s on (all: 0),
  // or without the timeline.
  Result<std::string> GetRun(const std::string& id, bool timeline, int64_t since_s = 0);
  // The run's HdrHistogram interval log (text, docs/rest-api.md).
  Result<std::string> GetRunHlog(const std::string& id);
  // GET /v1/runs: the runs `filter` passes (common/run_filter.h), newest
  // first.
  std::string ListRuns(const RunFilter& filter = RunFilter());
  std::string ListWorkers();
  std::string Health();
  // The fleet and the newest run for GET /metrics (metrics_collect.cc).
  FleetMetrics Metrics();

  size_t LiveWorkers();

  // The operator limits whose --allow-host list every assign carries to its
  // worker (not owned; set once before the bus listens). Unset: assigns
  // carry no list and workers apply their default, loopback only.
  void set_limits(const LiveLimits* limits) { limits_ = limits; }

 private:
  // coordinator_test.cc looks at mu_ through it (is it held while sending?).
  friend class CoordinatorLockProbe;

  // A run as the coordinator lists it: in memory while active (and until
  // its end is stored), else only its summary, and the rest on the store.
  struct RunSlot {
    std::unique_ptr<Run> run;  // null once ended, stored and dropped
    std::string summary;       // WriteSummary JSON, when run is null
    int64_t created_epoch_ns = 0;
    bool stored_final = false;  // its ended state is on the store
    size_t stored_seconds = 0;  // closed seconds on the store
    uint64_t stored_version = 0;
    int64_t stored_ns = 0;  // clock_ time of the last Put
    bool ever_stored = false;
    int64_t snapshot_cost_ns = 0;  // how long the last snapshot took to build
  };
  // A Put to make, built under mu_ and written without it.
  struct PersistJob {
    std::string id;
    RunSnapshot snapshot;
    size_t first_second = 0;
    uint64_t version = 0;
    bool final = false;
  };
  static constexpr size_t kMaxHelloBytes = 4096;
  // Ended runs kept in memory because the store refused them; past this,
  // the oldest is dropped (its data is lost, and logged).
  static constexpr size_t kMaxUnstoredRuns = 16;
  // A lost worker spoke again: live, and told to stop a run it was in.
  void Revive(WorkerEntry* w) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tick's fleet part: silent workers lost (their shares dealt out in one
  // pass), long-lost ones forgotten, pings when due.
  void TickFleet(int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A bus message to send, queued under mu_ (Send) and sent without it.
  struct OutMessage {
    uint32_t pipe = 0;
    std::string bytes;
  };
  // Queues a message for SendAll.
  void Send(uint32_t pipe, std::string bytes) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends everything queued, in order, with mu_ released. Every public call
  // that may queue calls it once it has released mu_. One sender at a time
  // (send_mu_), so messages queued by two threads keep their order.
  void SendAll() EXCLUDES(mu_, send_mu_);

  // The public calls' work under mu_ (they send the outbox afterwards).
  void OnDisconnectLocked(uint32_t pipe) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnMessageLocked(uint32_t pipe, Result<Message> msg) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TickLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Result<std::string> CreateRunLocked(const Plan& plan, std::string started_by)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Result<std::string> StopRunLocked(const std::string& id, const StopCheck& may_stop)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Result<std::string> ScaleRunLocked(const std::string& id, const ScaleRequest& request,
                                     const StopCheck& may_act, std::string by)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleHello(WorkerEntry* w, HelloMsg hello) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleStats(WorkerEntry* w, const StatsMsg& stats) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // redeal_now false: the caller calls RedealLost once it has marked all
  // the workers it found lost (one reshare message per heir for all).
  void MarkLost(WorkerEntry* w, const char* why, bool redeal_now = true)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Deals out every lost worker's share still undealt, in one pass.
  void RedealLost(Run* run, int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeFinish(Run* run, int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends StopMsg to every worker of the run still carrying load.
  void StopWorkers(const Run& run) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Assigns the run to the given workers (in striped order) and starts it.
  void Launch(Run* run, const std::vector<std::string>& worker_ids, int64_t now)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The run queue (coordinator_queue.cc). Where the run would go now.
  Placement PlaceRun(const Run& run) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts queued runs in order while the head one can start; the head
  // one that cannot waits (queued, or waiting for workers until its
  // expect_timeout); positions are renumbered.
  void Schedule(int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Workers that registered or were freed join running runs short of
  // their count (or whole-fleet runs that match them).
  void FillShortRuns(int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Both, when something changed (end of every public call under mu_).
  void Settle(int64_t now, bool always = false) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The new run: queued (and started, if it can), or refused as its plan
  // or the queue bound says. Its slot is made here.
  Status Enqueue(std::unique_ptr<Run> run, int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A queued or waiting run is cancelled (POST /stop): stopped, never started.
  void Cancel(Run* run, int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The run a worker is busy with, if in memory and not final.
  Run* RunOf(const WorkerEntry& w) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs in memory that are not final and hold workers (not queued or
  // waiting), oldest first.
  std::vector<Run*> PlacedRuns() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A worker of the run was lost: deal its classes out to the others.
  void Redeal(Run* run, const std::vector<RunWorker*>& leaving, int64_t now)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A worker registered while the run goes on: give it a fair share.
  void Join(Run* run, WorkerEntry* w, int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Rebalanceable(const Run& run, int64_t now) const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Run* FindRun(const std::string& id) EXCLUSIVE_LOCKS_REQUIRED(mu_);  // in memory only
  std::string NewRunId() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t WallNowNs() const;
  // Builds the Puts that are due.
  std::vector<PersistJob> DuePuts(int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops ended runs past the retention settings from the index; returns
  // their ids for the caller to remove from the store.
  std::vector<std::string> ExpiredRuns() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveFromStore(const std::vector<std::string>& ids) EXCLUDES(mu_);
  // Wakes WaitPersistDue: a run was created or ended. Cheap; callable under mu_.
  void WakePersister() EXCLUDES(wake_mu_);
  // Loads one stored run into the index; false if it is damaged.
  // Removes the plan's secrets from a stored state that cannot be restored.
  void RedactStoredState(const std::string& id, const StoredRun& stored) EXCLUDES(mu_);
  bool LoadStoredRun(const std::string& id) EXCLUDES(mu_);
  // A run stored queued or waiting, back in memory as queued (false: it
  // cannot be, and is interrupted as an active run).
  bool RestoreQueued(const std::string& id, const StoredRun& stored, RunSlot* slot)
      EXCLUDES(mu_);
  // Serves an ended run from the store (no lock held).
  Result<std::unique_ptr<Run>> RestoreEnded(const std::string& id) EXCLUDES(mu_);

  FleetBus* bus_;
  const Clock* clock_;
  const LiveLimits* limits_ = nullptr;
  CoordinatorConfig config_;
  std::unique_ptr<RunStore> own_store_;  // when none was passed in
  RunStore* store_;
  Mutex persist_mu_ ACQUIRED_BEFORE(mu_);  // one Persist() at a time; taken before mu_
  bool store_failing_ GUARDED_BY(persist_mu_) = false;  // to log changes only
  Mutex wake_mu_ ACQUIRED_AFTER(mu_);  // a leaf: nothing is taken while holding it
  CondVar wake_cv_;
  bool persist_due_ GUARDED_BY(wake_mu_) = false;
  // One "bad bus message" line per 10 s, with how many were not logged.
  LogLimiter bad_message_log_{10 * kNsPerSec};
  // Held while sending (SendAll), never with mu_ held: taken before mu_.
  Mutex send_mu_ ACQUIRED_BEFORE(mu_);
  Mutex mu_;
  std::vector<OutMessage> outbox_ GUARDED_BY(mu_);  // queued, oldest first
  FleetRegistry fleet_ GUARDED_BY(mu_);             // the workers, by pipe
  std::map<std::string, RunSlot> runs_ GUARDED_BY(mu_);
  std::vector<std::string> run_order_ GUARDED_BY(mu_);  // oldest first
  uint64_t run_counter_ GUARDED_BY(mu_) = 0;
  RunQueue queue_ GUARDED_BY(mu_);  // queued and waiting runs, in start order
  // Pipes of workers that registered or were freed since the last Settle.
  std::vector<uint32_t> arrivals_ GUARDED_BY(mu_);
  bool placement_dirty_ GUARDED_BY(mu_) = false;  // the queue may move
  // The newest run's metrics once it ended and left memory (it never changes).
  std::shared_ptr<const RunMetrics> ended_run_metrics_ GUARDED_BY(mu_);
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_COORDINATOR_H_
