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
  Run* run = ActiveRun();
  if (run == nullptr) return;
  int64_t now = clock_->NowNs();
  run->Touch();
  std::vector<RunWorker*> lost;
  for (RunWorker& rw : run->workers()) {
    if (rw.pipe == w->pipe && !rw.final && !rw.lost) {
      rw.lost = true;
      rw.lost_at_ms = run->RunTimeMs(now);
      rw.users_now = 0;
      lost.push_back(&rw);
    }
  }
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
    w.run_id = hb->run_id;
    if (Run* run = ActiveRun()) {
      if (hb->run_id == run->id()) run->NoteCpu(w.id, hb->cpu_percent, clock_->NowNs());
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
  Run* run = ActiveRun();
  if (!w->hello.run_id.empty()) {
    // Reconnected mid-run: carry on if its share is still its own.
    RunWorker* rw =
        run != nullptr && run->id() == w->hello.run_id ? run->Find(id) : nullptr;
    if (rw != nullptr && !rw->lost && !rw->final) {
      rw->pipe = w->pipe;
    } else {
      Send(w->pipe, EncodeMessage(StopMsg{w->hello.run_id}));
    }
  } else if (run != nullptr && run->state() != RunState::kWaiting) {
    // A worker that left or was lost from this run (hung, cut off,
    // restarted) stays idle until the next one: its share was dealt out,
    // and taking it back would shuffle users again on every flap.
    bool was_in_run =
        std::any_of(run->workers().begin(), run->workers().end(),
                    [&](const RunWorker& rw) { return rw.worker_id == id; });
    if (!was_in_run) Join(run, w, clock_->NowNs());
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
    if (stats.final) w->run_id.clear();
    return;
  }
  std::vector<RunWorker>& workers = run->workers();
  // The hint is right unless the run's workers changed under it; else scan
  // (10,000 workers each sending every second make the scan quadratic).
  size_t hint = w->run_slot;
  bool hit =
      hint < workers.size() && workers[hint].pipe == w->pipe && !workers[hint].final;
  for (size_t i = hit ? hint : 0; i < workers.size(); ++i) {
    RunWorker& rw = workers[i];
    if (rw.pipe != w->pipe || rw.final) continue;
    w->run_slot = i;
    run->AddStats(&rw, stats, clock_->NowNs());
    // Final before the run's end (a graceful exit, load stopped for want of
    // the coordinator): the others carry its share from now on.
    if (stats.final && !rw.lost) Redeal(run, {&rw}, clock_->NowNs());
    if (stats.final) w->run_id.clear();
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
  fleet_.ReleaseRun(run->id());
  WakePersister();  // an ended run is written at once
  LOG_INFO("run %s %s: %lld requests, %lld failures", run->id().c_str(),
           RunStateName(run->state()), static_cast<long long>(run->total_requests()),
           static_cast<long long>(run->total_failures()));
}

void Coordinator::Tick() {
  {
    MutexLock lock(&mu_);
    TickLocked();
  }
  SendAll();
}

void Coordinator::TickLocked() {
  int64_t now = clock_->NowNs();
  TickFleet(now);
  if (Run* run = ActiveRun()) {
    if (run->state() == RunState::kWaiting) {
      size_t live = fleet_.CountIdle();
      if (static_cast<int64_t>(live) >= run->plan().expect_workers) {
        Launch(run, now);
      } else if (now - run->created_ns() > run->plan().expect_timeout_ns) {
        run->End(EndReason::kNoWorkers, now,
                 "only " + std::to_string(live) + " of " +
                     std::to_string(run->plan().expect_workers) +
                     " expected workers registered within " +
                     FormatDurationNs(run->plan().expect_timeout_ns) +
                     "; start more workers or lower expect_workers");
        LOG_WARN("run %s failed: %s", run->id().c_str(), run->message().c_str());
        WakePersister();
      }
      return;
    }
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
  if (Run* run = ActiveRun()) RedealLost(run, now);
  if (fleet_.PingDue(now)) {
    std::string ping = EncodeMessage(PingMsg{});
    for (uint32_t pipe : fleet_.LivePipes()) Send(pipe, ping);
  }
}

Run* Coordinator::ActiveRun() {
  for (auto it = run_order_.rbegin(); it != run_order_.rend(); ++it) {
    Run* run = runs_[*it].run.get();
    if (run != nullptr && !IsFinal(run->state())) return run;
  }
  return nullptr;
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

void Coordinator::Launch(Run* run, int64_t now) {
  std::vector<WorkerEntry*> idle = fleet_.Idle();
  std::vector<StripeMember> members;
  for (const WorkerEntry* w : idle) {
    members.push_back({w->hello.host, w->hello.instance, w->id});
  }
  std::vector<StripeMember> order = StripeOrder(std::move(members));
  const Plan& plan = run->plan();
  int64_t n = static_cast<int64_t>(order.size());
  run->set_start_ns(now + config_.start_delay_ms * kNsPerMs);
  run->SetState(RunState::kStarting, now);
  run->Touch();
  // Ids are unique (HandleHello): index them rather than scan per stripe.
  std::unordered_map<std::string_view, WorkerEntry*> by_id;
  for (WorkerEntry* w : idle) by_id.emplace(w->id, w);
  for (int64_t k = 0; k < n; ++k) {
    auto found = by_id.find(order[k].worker_id);
    if (found == by_id.end()) continue;
    WorkerEntry& w = *found->second;
    const uint32_t pipe = w.pipe;
    if (!w.Idle()) continue;
    RunWorker rw;
    rw.worker_id = w.id;
    rw.host = w.hello.host;
    rw.pipe = pipe;
    rw.stripe = k;
    rw.share = {ShareChange{true, n, k, 1, 0, -1}};
    rw.users_assigned = CountInClass(plan.users, n, k);
    if (!plan.data.empty()) rw.data_rows = RowsOfShare(plan.data, n, k);
    run->workers().push_back(rw);
    w.run_id = run->id();
    w.run_slot = run->workers().size() - 1;
    Send(pipe, EncodeMessage(AssignMsg{run->id(), plan, rw.share, plan.HandoverRate(),
                                       -config_.start_delay_ms, AllowHostsOf(limits_)}));
  }
  LOG_INFO("run %s: %lld workers assigned", run->id().c_str(), static_cast<long long>(n));
  if (int64_t idle = WorkersWithoutRows(run->workers())) {
    LOG_WARN("run %s: %lld of %lld workers got no row of the data file (%zu rows)",
             run->id().c_str(), static_cast<long long>(idle), static_cast<long long>(n),
             plan.data.row_count);
  }
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
  if (Run* active = ActiveRun()) {
    return Status(
        StatusCode::kFailedPrecondition,
        "run " + active->id() + " is still active; stop it first (loadctl stop)");
  }
  size_t live = fleet_.CountIdle();
  if (live == 0 && plan.expect_workers == 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "no live workers: start `loadd worker` processes pointed at this "
                  "coordinator's bus, or use `loadctl start --local`");
  }
  int64_t now = clock_->NowNs();
  std::string id = NewRunId();
  int64_t start_ns = now + config_.start_delay_ms * kNsPerMs;
  auto run = std::make_unique<Run>(id, plan, now, start_ns, WallNowNs());
  run->set_started_by(std::move(started_by));
  if (static_cast<int64_t>(live) < plan.expect_workers) {
    run->SetState(RunState::kWaiting, now);
    LOG_INFO("run %s: waiting for %lld workers (%zu live)", id.c_str(),
             static_cast<long long>(plan.expect_workers), live);
  } else {
    Launch(run.get(), now);
  }
  int64_t n = static_cast<int64_t>(run->workers().size());
  LOG_INFO("run %s: %lld users over %lld workers", id.c_str(),
           static_cast<long long>(plan.users), static_cast<long long>(n));
  std::string reply = ToJson([&](JsonWriter* w) {
    w->StartObject();
    w->Key("id");
    WriteString(w, id);
    w->Key("state");
    w->String(RunStateName(run->state()));
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
  RunSlot& slot = runs_[id];
  slot.created_epoch_ns = run->created_epoch_ns();
  slot.run = std::move(run);
  run_order_.push_back(id);
  WakePersister();  // a new run is written at once, so that it outlives a crash
  return reply;
}

Result<std::string> Coordinator::StopRun(const std::string& id,
                                         const StopCheck& may_stop) {
  Result<std::string> reply = Status(StatusCode::kInternal, "not stopped");
  {
    MutexLock lock(&mu_);
    reply = StopRunLocked(id, may_stop);
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
  if (run->state() == RunState::kWaiting) {
    run->End(EndReason::kStopped, clock_->NowNs(), "stopped while waiting for workers");
    WakePersister();
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
