#include "daemon/coordinator/coordinator.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <numeric>
#include <queue>
#include <string_view>
#include <unordered_map>

#include "common/log.h"
#include "common/share.h"
#include "common/units.h"
#include "daemon/coordinator/data_warning.h"

namespace loadd {

Coordinator::Coordinator(FleetBus* bus, const Clock* clock, CoordinatorConfig config,
                         RunStore* store)
    : bus_(bus),
      clock_(clock),
      config_(std::move(config)),
      store_(store),
      fleet_(FleetConfig{config_.heartbeat_timeout_ms, config_.lost_worker_keep_ms}) {
  if (store_ == nullptr) {
    own_store_ = std::make_unique<MemoryRunStore>();
    store_ = own_store_.get();
  }
}

void Coordinator::OnConnect(uint32_t pipe) {
  MutexLock lock(&mu_);
  fleet_.OnConnect(pipe, clock_->NowNs());
}

void Coordinator::Send(uint32_t pipe, std::string bytes) {
  outbox_.push_back({pipe, std::move(bytes)});
}

void Coordinator::SendAll() {
  MutexLock send_lock(&send_mu_);
  std::vector<OutMessage> out;
  {
    MutexLock lock(&mu_);
    out.swap(outbox_);
  }
  for (const OutMessage& m : out) bus_->SendTo(m.pipe, m.bytes);
}

void Coordinator::OnDisconnect(uint32_t pipe) {
  {
    MutexLock lock(&mu_);
    OnDisconnectLocked(pipe);
    Settle(clock_->NowNs());
  }
  SendAll();
}

void Coordinator::OnDisconnectLocked(uint32_t pipe) {
  WorkerEntry* w = fleet_.Find(pipe);
  if (w == nullptr) return;
  if (!w->registered) {
    fleet_.Forget(pipe);
    return;
  }
  MarkLost(w, "disconnected");
}

void Coordinator::MarkLost(WorkerEntry* w, const char* why, bool redeal_now) {
  if (!fleet_.MarkLost(w, clock_->NowNs())) return;
  LOG_WARN("worker %s lost (%s)", w->id.c_str(), why);
  placement_dirty_ = true;  // a queued run may wait for it no longer
  Run* run = RunOf(*w);
  if (run == nullptr) return;
  int64_t now = clock_->NowNs();
  run->Touch();
  // Its share goes to the other workers of its own run only.
  std::vector<RunWorker*> lost = run->MarkWorkerLost(w->pipe, now);
  // Otherwise the caller deals out every share lost in one pass at once.
  if (redeal_now) Redeal(run, lost, now);
  MaybeFinish(run, now);
}

void Coordinator::OnMessage(uint32_t pipe, std::string_view bytes) {
  // Until a peer has said hello, only a small hello is worth decoding.
  if (bytes.size() > kMaxHelloBytes) {
    MutexLock lock(&mu_);
    WorkerEntry* w = fleet_.Find(pipe);
    if (w == nullptr || !w->registered) {
      LOG_WARN("pipe %u sent %zu bytes before hello; ignored", pipe, bytes.size());
      return;
    }
  }
  // Decoded without mu_, so REST requests do not wait for it (one bus
  // thread delivers, so a pipe's messages still arrive in order).
  Result<Message> msg = DecodeMessage(bytes);
  {
    MutexLock lock(&mu_);
    OnMessageLocked(pipe, std::move(msg));
    Settle(clock_->NowNs());
  }
  SendAll();
}

void Coordinator::OnMessageLocked(uint32_t pipe, Result<Message> msg) {
  // An unknown pipe's entry was dropped (lost for longer than
  // lost_worker_keep_ms) but the pipe stayed open: it may say hello again
  // (faults: the worker does).
  WorkerEntry& w = *fleet_.FindOrAdd(pipe, clock_->NowNs());
  if (!msg.ok()) {
    // Refused binary stats are counted too (loadd_bus_stats_refused_total);
    // a worker sending one every second must not flood the log.
    uint64_t suppressed = 0;
    if (bad_message_log_.Allow(clock_->NowNs(), &suppressed)) {
      LOG_WARN("bad bus message from %s: %s (%llu more not logged in the last 10 s)",
               w.registered ? w.id.c_str() : "an unregistered peer",
               msg.status().ToString().c_str(),
               static_cast<unsigned long long>(suppressed));
    }
    return;
  }
  w.last_seen_ns = clock_->NowNs();
  if (auto* hello = std::get_if<HelloMsg>(&*msg)) {
    HandleHello(&w, std::move(*hello));
    return;
  }
  if (!w.registered) {
    LOG_WARN("pipe %u sent %s before hello; ignored", pipe, MessageTypeName(*msg));
    return;
  }
  if (std::holds_alternative<GoodbyeMsg>(*msg)) {
    // Graceful exit: its final stats came first (and dealt its share out);
    // a share it did not finish is dealt out now, as for a lost worker.
    LOG_INFO("worker %s left: %s", w.id.c_str(),
             std::get<GoodbyeMsg>(*msg).reason.c_str());
    if (!w.lost && !w.run_id.empty()) MarkLost(&w, "left without its final stats");
    fleet_.Forget(pipe);
    return;
  }
  if (w.lost) Revive(&w);
  if (auto* hb = std::get_if<HeartbeatMsg>(&*msg)) {
    w.users = hb->users;
    w.cpu_percent = hb->cpu_percent;
    // A run the coordinator gave it stands: a heartbeat sent before the
    // assign arrived must not make it look idle (and be given to another).
    if (Run* mine = RunOf(w)) {
      if (hb->run_id == mine->id()) mine->NoteCpu(w.id, hb->cpu_percent, clock_->NowNs());
    } else {
      bool was_busy = !w.run_id.empty();
      w.run_id = hb->run_id;
      if (was_busy && w.Idle()) {
        arrivals_.push_back(w.pipe);  // done with an ended run: free again
        placement_dirty_ = true;
      }
    }
  } else if (auto* stats = std::get_if<StatsMsg>(&*msg)) {
    HandleStats(&w, *stats);
  } else {
    LOG_WARN("worker %s sent unexpected %s", w.id.c_str(), MessageTypeName(*msg));
  }
}

void Coordinator::Revive(WorkerEntry* w) {
  LOG_INFO("worker %s is back", w->id.c_str());
  // Its share of a run was dealt to others when it was lost: it must stop.
  if (fleet_.Revive(w)) Send(w->pipe, EncodeMessage(StopMsg{w->run_id}));
}

void Coordinator::HandleHello(WorkerEntry* w, HelloMsg hello) {
  // The same worker on a new connection (restart, network blip) replaces
  // its old entry; a live entry with the same identity is another process
  // (a duplicate --host-id), kept apart under another id.
  const std::string& id = fleet_.Register(w, std::move(hello));
  LOG_INFO("worker %s registered (pid %lld, cpu %lld, %lld cores)", id.c_str(),
           static_cast<long long>(w->hello.pid), static_cast<long long>(w->hello.cpu),
           static_cast<long long>(w->hello.cores));
  Send(w->pipe, EncodeMessage(WelcomeMsg{id, fleet_.HeartbeatIntervalMs(),
                                         config_.heartbeat_timeout_ms}));
  if (!w->hello.run_id.empty()) {
    // Reconnected mid-run: carry on if its share is still its own.
    Run* run = RunOf(*w);
    RunWorker* rw = run != nullptr ? run->Find(id) : nullptr;
    if (rw != nullptr && !rw->lost && !rw->final) {
      rw->pipe = w->pipe;
    } else {
      Send(w->pipe, EncodeMessage(StopMsg{w->hello.run_id}));
    }
  } else {
    // Free: to a running run short of its count, else to the queue
    // (Settle). A worker that left or was lost from a run (hung, cut off,
    // restarted) does not join that run again: its share was dealt out, and
    // taking it back would shuffle users again on every flap.
    arrivals_.push_back(w->pipe);
    placement_dirty_ = true;
  }
}

void Coordinator::HandleStats(WorkerEntry* w, const StatsMsg& stats) {
  w->users = stats.users;
  w->cpu_percent = stats.cpu_percent;
  auto it = runs_.find(stats.run_id);
  if (it == runs_.end()) return;
  Run* run = it->second.run.get();
  if (run == nullptr || IsFinal(run->state())) {
    LOG_WARN("late stats from %s for ended run %s ignored", w->id.c_str(),
             stats.run_id.c_str());
    if (stats.final && !w->run_id.empty()) {
      w->run_id.clear();
      arrivals_.push_back(w->pipe);
      placement_dirty_ = true;
    }
    return;
  }
  // The hint is right unless the run's workers changed under it; else scan
  // (10,000 workers each sending every second make the scan quadratic).
  size_t hint = w->run_slot;
  const RunWorker* at = run->WorkerAt(hint);
  bool hit = at != nullptr && at->pipe == w->pipe && !at->final;
  const size_t slots = run->workers().size();
  for (size_t i = hit ? hint : 0; i < slots; ++i) {
    RunWorker& rw = *run->WorkerAt(i);
    if (rw.pipe != w->pipe || rw.final) continue;
    w->run_slot = i;
    run->AddStats(&rw, stats, clock_->NowNs());
    // Final before the run's end (a graceful exit, load stopped for want of
    // the coordinator): the others carry its share from now on.
    if (stats.final && !rw.lost) Redeal(run, {&rw}, clock_->NowNs());
    if (stats.final) {
      w->run_id.clear();  // free for another run (Settle)
      arrivals_.push_back(w->pipe);
      placement_dirty_ = true;
    }
    MaybeFinish(run, clock_->NowNs());
    return;
  }
}

void Coordinator::MaybeFinish(Run* run, int64_t now) {
  if (IsFinal(run->state())) return;
  int64_t grace_ns = run->plan().graceful_stop_ns + config_.finish_grace_ms * kNsPerMs;
  int64_t deadline = run->start_ns() + run->plan().duration_ns + grace_ns;
  if (run->stop_requested_ns() > 0)
    deadline = std::min(deadline, run->stop_requested_ns() + grace_ns);
  bool timed_out = now > deadline;
  if (!run->AllWorkersDone() && !timed_out) return;
  int64_t lost = 0, silent = 0;
  for (const RunWorker& rw : run->workers()) {
    lost += rw.lost;
    silent += !rw.final && !rw.lost;
  }
  if (lost == static_cast<int64_t>(run->workers().size())) {
    run->End(EndReason::kAllWorkersLost, now, "every worker of the run was lost");
  } else {
    // An aborted run keeps the threshold that aborted it first in its message.
    std::string message = run->aborted() ? run->message() : "";
    if (lost > 0) {
      message += (message.empty() ? "" : "; ") + std::to_string(lost) +
                 " worker(s) lost during the run";
    }
    if (silent > 0) {
      message += (message.empty() ? "" : "; ") + std::to_string(silent) +
                 " worker(s) sent no final stats";
    }
    // Why it ended is data (end_reason); the message, for people, may
    // name the silent and lost workers after the aborting threshold.
    EndReason reason = run->aborted() ? EndReason::kAbortedByThreshold
                       : run->state() == RunState::kStopping ? EndReason::kStopped
                                                             : EndReason::kCompleted;
    run->End(reason, now, message);
  }
  // Its workers are free: to runs short of their count, then the queue.
  for (uint32_t pipe : fleet_.ReleaseRun(run->id())) arrivals_.push_back(pipe);
  placement_dirty_ = true;
  WakePersister();  // an ended run is written at once
  LOG_INFO("run %s %s: %lld requests, %lld failures", run->id().c_str(),
           RunStateName(run->state()), static_cast<long long>(run->total_requests()),
           static_cast<long long>(run->total_failures()));
}

void Coordinator::Tick() {
  {
    MutexLock lock(&mu_);
    TickLocked();
    Settle(clock_->NowNs(), /*always=*/true);  // expect_timeout of a waiting run
  }
  SendAll();
}

void Coordinator::TickLocked() {
  int64_t now = clock_->NowNs();
  TickFleet(now);
  for (Run* run : PlacedRuns()) {
    if (run->state() == RunState::kStarting && now >= run->start_ns()) {
      run->SetState(RunState::kRunning, now);
    }
    if (run->AbortOnThresholds(now)) {
      // Stopped as POST /stop does; the run ends as "stopped" with the
      // failing threshold in its message.
      run->set_stop_requested_ns(now);
      StopWorkers(*run);
      LOG_WARN("run %s: %s", run->id().c_str(), run->message().c_str());
    }
    run->CloseSeconds(now, /*all=*/false);
    MaybeFinish(run, now);
  }
}

void Coordinator::TickFleet(int64_t now) {
  // Silence is judged up to what the bus has delivered (fleet_registry.h).
  for (uint32_t pipe : fleet_.Silent(now, bus_->DeliveredUpToNs(now))) {
    MarkLost(fleet_.Find(pipe), "missed heartbeats", /*redeal_now=*/false);
  }
  fleet_.ForgetLongLost(now);
  for (Run* run : PlacedRuns()) RedealLost(run, now);
  if (fleet_.PingDue(now)) {
    std::string ping = EncodeMessage(PingMsg{});
    for (uint32_t pipe : fleet_.LivePipes()) Send(pipe, ping);
  }
}

namespace {

// Holds workers: assigned and not ended (neither queued nor waiting).
bool Placed(const Run& run) {
  return !IsFinal(run.state()) && run.state() != RunState::kQueued &&
         run.state() != RunState::kWaiting;
}

}  // namespace

std::vector<Run*> Coordinator::PlacedRuns() {
  std::vector<Run*> placed;
  for (const std::string& id : run_order_) {
    Run* run = runs_[id].run.get();
    if (run != nullptr && Placed(*run)) placed.push_back(run);
  }
  return placed;
}

Run* Coordinator::RunOf(const WorkerEntry& w) {
  if (w.run_id.empty()) return nullptr;
  Run* run = FindRun(w.run_id);
  return run != nullptr && Placed(*run) ? run : nullptr;
}

Run* Coordinator::FindRun(const std::string& id) {
  auto it = runs_.find(id);
  return it == runs_.end() ? nullptr : it->second.run.get();
}

int64_t Coordinator::WallNowNs() const {
  if (config_.wall_now_ns) return config_.wall_now_ns();
  timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  return int64_t{wall.tv_sec} * kNsPerSec + wall.tv_nsec;
}

std::string Coordinator::NewRunId() {
  // The counter goes on from the stored runs' (LoadStoredRuns), and an id in
  // use is skipped, so a restarted coordinator never reuses one.
  char id[48];
  do {
    std::snprintf(id, sizeof id, "r%lld-%llu",
                  static_cast<long long>(WallNowNs() / kNsPerSec),
                  static_cast<unsigned long long>(++run_counter_));
  } while (runs_.count(id) != 0);
  return id;
}

Result<std::string> Coordinator::CreateRun(std::string_view plan_json,
                                           const PlanCheck& check,
                                           std::string started_by) {
  Result<Plan> plan = ParsePlan(plan_json);
  if (!plan.ok()) return plan.status();
  if (check) LOADD_RETURN_IF_ERROR(check(*plan));
  Result<std::string> reply = Status(StatusCode::kInternal, "not created");
  {
    MutexLock lock(&mu_);
    reply = CreateRunLocked(*plan, std::move(started_by));
  }
  SendAll();
  return reply;
}

Result<std::string> Coordinator::CreateRunLocked(const Plan& plan,
                                                 std::string started_by) {
  int64_t now = clock_->NowNs();
  std::string id = NewRunId();
  int64_t start_ns = now + config_.start_delay_ms * kNsPerMs;
  auto created =
      std::make_unique<Run>(id, plan, now, start_ns, WallNowNs(), RunState::kQueued);
  created->set_started_by(std::move(started_by));
  LOADD_RETURN_IF_ERROR(Enqueue(std::move(created), now));
  const Run& run = *runs_[id].run;
  int64_t n = static_cast<int64_t>(run.workers().size());
  LOG_INFO("run %s: %lld users over %lld workers (%s)", id.c_str(),
           static_cast<long long>(plan.users), static_cast<long long>(n),
           RunStateName(run.state()));
  WakePersister();  // a new run is written at once, so that it outlives a crash
  return ToJson([&](JsonWriter* w) {
    w->StartObject();
    w->Key("id");
    WriteString(w, id);
    w->Key("state");
    w->String(RunStateName(run.state()));
    if (run.queue_position() > 0) {
      w->Key("queue_position");
      w->Int64(run.queue_position());
    }
    w->Key("workers");
    w->Int64(n);
    if (plan.model == LoadModel::kOpen) {
      w->Key("arrival_rate");
      w->Double(plan.arrival_rate);
    }
    w->Key("users");
    w->Int64(plan.users);
    w->EndObject();
  });
}

Result<std::string> Coordinator::StopRun(const std::string& id,
                                         const StopCheck& may_stop) {
  Result<std::string> reply = Status(StatusCode::kInternal, "not stopped");
  {
    MutexLock lock(&mu_);
    reply = StopRunLocked(id, may_stop);
    Settle(clock_->NowNs());
  }
  SendAll();
  return reply;
}

Result<std::string> Coordinator::StopRunLocked(const std::string& id,
                                               const StopCheck& may_stop) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return Status(StatusCode::kNotFound, "no run " + id, "id");
  Run* run = it->second.run.get();
  if (run == nullptr) {
    return Status(StatusCode::kFailedPrecondition, "run " + id + " has already ended");
  }
  if (IsFinal(run->state())) {
    return Status(StatusCode::kFailedPrecondition, "run " + id + " has already ended (" +
                                                       RunStateName(run->state()) + ")");
  }
  if (may_stop) LOADD_RETURN_IF_ERROR(may_stop(run->started_by()));
  if (run->state() == RunState::kWaiting || run->state() == RunState::kQueued) {
    Cancel(run, clock_->NowNs());  // never started: stopped at once
  } else {
    run->SetState(RunState::kStopping, clock_->NowNs());
  }
  run->set_stop_requested_ns(clock_->NowNs());
  StopWorkers(*run);
  LOG_INFO("run %s: stop requested", id.c_str());
  return ToJson([&](JsonWriter* w) {
    w->StartObject();
    w->Key("id");
    WriteString(w, id);
    w->Key("state");
    w->String(RunStateName(run->state()));
    w->EndObject();
  });
}

int64_t Coordinator::ActiveRunsStartedBy(const std::string& started_by) {
  MutexLock lock(&mu_);
  int64_t n = 0;
  for (auto& [id, slot] : runs_) {
    n += slot.run != nullptr && !IsFinal(slot.run->state()) &&
         slot.run->started_by() == started_by;
  }
  return n;
}

void Coordinator::StopWorkers(const Run& run) {
  std::string stop = EncodeMessage(StopMsg{run.id()});
  for (const RunWorker& rw : run.workers()) {
    if (!rw.lost && !rw.final) Send(rw.pipe, stop);
  }
}

}  // namespace loadd
