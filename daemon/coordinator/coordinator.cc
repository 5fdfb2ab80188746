#include "daemon/coordinator/coordinator.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <ctime>
#include <functional>

#include "common/log.h"
#include "daemon/coordinator/striping.h"
#include "daemon/worker/schedule.h"

namespace loadd {
namespace {

std::string ToJson(const std::function<void(JsonWriter*)>& fn) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  fn(&w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Coordinator::Coordinator(FleetBus* bus, const Clock* clock, CoordinatorConfig config)
    : bus_(bus), clock_(clock), config_(config) {}

void Coordinator::OnConnect(uint32_t pipe) {
  std::lock_guard<std::mutex> lock(mu_);
  WorkerEntry& w = workers_[pipe];
  w.pipe = pipe;
  w.connected_ns = w.last_seen_ns = clock_->NowNs();
}

void Coordinator::OnDisconnect(uint32_t pipe) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(pipe);
  if (it == workers_.end()) return;
  if (!it->second.registered) {
    workers_.erase(it);
    return;
  }
  MarkLost(&it->second, "disconnected");
}

void Coordinator::MarkLost(WorkerEntry* w, const char* why) {
  if (w->lost) return;
  w->lost = true;
  w->lost_ns = clock_->NowNs();
  LOG_WARN("worker %s lost (%s)", w->id.c_str(), why);
  Run* run = ActiveRun();
  if (run == nullptr) return;
  for (RunWorker& rw : run->workers()) {
    if (rw.pipe == w->pipe && !rw.final) {
      rw.lost = true;
      rw.users_now = 0;
    }
  }
  MaybeFinish(run, clock_->NowNs());
}

void Coordinator::OnMessage(uint32_t pipe, std::string_view bytes) {
  Result<Message> msg = DecodeMessage(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(pipe);
  if (it == workers_.end()) return;
  WorkerEntry& w = it->second;
  if (!msg.ok()) {
    LOG_WARN("bad bus message from pipe %u: %s", pipe, msg.status().ToString().c_str());
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
  if (auto* hb = std::get_if<HeartbeatMsg>(&*msg)) {
    w.users = hb->users;
    w.cpu_percent = hb->cpu_percent;
    w.run_id = hb->run_id;
  } else if (auto* stats = std::get_if<StatsMsg>(&*msg)) {
    HandleStats(&w, *stats);
  } else {
    LOG_WARN("worker %s sent unexpected %s", w.id.c_str(), MessageTypeName(*msg));
  }
}

void Coordinator::HandleHello(WorkerEntry* w, HelloMsg hello) {
  std::string id = hello.host + "/" + std::to_string(hello.instance);
  // The same worker on a new connection (restart, network blip) replaces
  // its old entry.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->first != w->pipe && it->second.id == id) {
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  w->id = id;
  w->hello = std::move(hello);
  w->registered = true;
  w->lost = false;
  LOG_INFO("worker %s registered (pid %lld, cpu %lld, %lld cores)", id.c_str(),
           static_cast<long long>(w->hello.pid), static_cast<long long>(w->hello.cpu),
           static_cast<long long>(w->hello.cores));
  bus_->SendTo(w->pipe, EncodeMessage(WelcomeMsg{id, 1000}));
}

void Coordinator::HandleStats(WorkerEntry* w, const StatsMsg& stats) {
  w->users = stats.users;
  w->cpu_percent = stats.cpu_percent;
  auto it = runs_.find(stats.run_id);
  if (it == runs_.end()) return;
  Run* run = it->second.get();
  for (RunWorker& rw : run->workers()) {
    if (rw.pipe != w->pipe || rw.final) continue;
    run->AddStats(&rw, stats, clock_->NowNs());
    if (stats.final) w->run_id.clear();
    MaybeFinish(run, clock_->NowNs());
    return;
  }
}

void Coordinator::MaybeFinish(Run* run, int64_t now) {
  if (IsFinal(run->state())) return;
  bool timed_out = now > run->start_ns() + run->plan().duration_ns +
                             run->plan().graceful_stop_ns + config_.finish_grace_ms * kNsPerMs;
  if (!run->AllWorkersDone() && !timed_out) return;
  int64_t lost = 0, silent = 0;
  for (const RunWorker& rw : run->workers()) {
    lost += rw.lost;
    silent += !rw.final && !rw.lost;
  }
  if (lost == static_cast<int64_t>(run->workers().size())) {
    run->SetState(RunState::kFailed, now, "every worker of the run was lost");
  } else {
    std::string message;
    if (lost > 0) message = std::to_string(lost) + " worker(s) lost during the run";
    if (silent > 0) {
      message += (message.empty() ? "" : "; ") + std::to_string(silent) +
                 " worker(s) sent no final stats";
    }
    run->SetState(run->state() == RunState::kStopping ? RunState::kStopped : RunState::kFinished,
                  now, message);
  }
  for (auto& [pipe, w] : workers_) {
    if (w.run_id == run->id()) w.run_id.clear();
  }
  LOG_INFO("run %s %s: %lld requests, %lld failures", run->id().c_str(),
           RunStateName(run->state()), static_cast<long long>(run->total_requests()),
           static_cast<long long>(run->total_failures()));
}

void Coordinator::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_->NowNs();
  for (auto it = workers_.begin(); it != workers_.end();) {
    WorkerEntry& w = it->second;
    if (w.registered && !w.lost && now - w.last_seen_ns > config_.heartbeat_timeout_ms * kNsPerMs) {
      MarkLost(&w, "missed heartbeats");
    }
    if (w.lost && now - w.lost_ns > config_.lost_worker_keep_ms * kNsPerMs) {
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  if (now - last_ping_ns_ >= kNsPerSec) {
    last_ping_ns_ = now;
    std::string ping = EncodeMessage(PingMsg{});
    for (auto& [pipe, w] : workers_) {
      if (w.registered && !w.lost) bus_->SendTo(pipe, ping);
    }
  }
  if (Run* run = ActiveRun()) {
    if (run->state() == RunState::kStarting && now >= run->start_ns()) {
      run->SetState(RunState::kRunning, now);
    }
    run->CloseSeconds(now, /*all=*/false);
    MaybeFinish(run, now);
  }
}

Run* Coordinator::ActiveRun() {
  for (auto it = run_order_.rbegin(); it != run_order_.rend(); ++it) {
    Run* run = runs_[*it].get();
    if (!IsFinal(run->state())) return run;
  }
  return nullptr;
}

std::string Coordinator::NewRunId() {
  char id[48];
  std::snprintf(id, sizeof id, "r%lld-%llu", static_cast<long long>(std::time(nullptr)),
                static_cast<unsigned long long>(++run_counter_));
  return id;
}

Result<std::string> Coordinator::CreateRun(std::string_view plan_json) {
  Result<Plan> plan = ParsePlan(plan_json);
  if (!plan.ok()) return plan.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (Run* active = ActiveRun()) {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + active->id() + " is still active; stop it first (loadctl stop)");
  }
  std::vector<StripeMember> members;
  for (auto& [pipe, w] : workers_) {
    if (w.registered && !w.lost) members.push_back({w.hello.host, w.hello.instance, w.id});
  }
  if (members.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "no live workers: start `loadd worker` processes pointed at this "
                  "coordinator's bus, or use `loadctl start --local`");
  }
  std::vector<StripeMember> order = StripeOrder(std::move(members));
  int64_t now = clock_->NowNs();
  std::string id = NewRunId();
  auto run = std::make_unique<Run>(id, *plan, now, now + config_.start_delay_ms * kNsPerMs);
  int64_t n = static_cast<int64_t>(order.size());
  for (int64_t k = 0; k < n; ++k) {
    for (auto& [pipe, w] : workers_) {
      if (w.id != order[k].worker_id || !w.registered || w.lost) continue;
      ClosedSchedule share{plan->users, plan->spawn_rate, k, n};
      run->workers().push_back(
          RunWorker{w.id, w.hello.host, pipe, k, share.LocalUsers(), 0, 0, 0, false, false});
      w.run_id = id;
      bus_->SendTo(pipe, EncodeMessage(AssignMsg{id, *plan, k, n, config_.start_delay_ms}));
    }
  }
  LOG_INFO("run %s: %lld users over %lld workers", id.c_str(),
           static_cast<long long>(plan->users), static_cast<long long>(n));
  std::string reply = ToJson([&](JsonWriter* w) {
    w->StartObject();
    w->Key("id");
    WriteString(w, id);
    w->Key("state");
    w->String(RunStateName(run->state()));
    w->Key("workers");
    w->Int64(n);
    w->Key("users");
    w->Int64(plan->users);
    w->EndObject();
  });
  runs_[id] = std::move(run);
  run_order_.push_back(id);
  while (run_order_.size() > config_.max_runs_kept) {
    runs_.erase(run_order_.front());
    run_order_.erase(run_order_.begin());
  }
  return reply;
}

Result<std::string> Coordinator::StopRun(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(id);
  if (it == runs_.end()) return Status(StatusCode::kNotFound, "no run " + id, "id");
  Run* run = it->second.get();
  if (IsFinal(run->state())) {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + id + " has already ended (" + RunStateName(run->state()) + ")");
  }
  run->SetState(RunState::kStopping, clock_->NowNs());
  std::string stop = EncodeMessage(StopMsg{id});
  for (const RunWorker& rw : run->workers()) {
    if (!rw.lost && !rw.final) bus_->SendTo(rw.pipe, stop);
  }
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

Result<std::string> Coordinator::GetRun(const std::string& id, bool timeline) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(id);
  if (it == runs_.end()) return Status(StatusCode::kNotFound, "no run " + id, "id");
  int64_t now = clock_->NowNs();
  return ToJson([&](JsonWriter* w) { it->second->WriteFull(w, timeline, now); });
}

std::string Coordinator::ListRuns() {
  std::lock_guard<std::mutex> lock(mu_);
  return ToJson([&](JsonWriter* w) {
    w->StartObject();
    w->Key("runs");
    w->StartArray();
    for (auto it = run_order_.rbegin(); it != run_order_.rend(); ++it) {
      runs_[*it]->WriteSummary(w);
    }
    w->EndArray();
    w->EndObject();
  });
}

std::string Coordinator::ListWorkers() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_->NowNs();
  return ToJson([&](JsonWriter* w) {
    w->StartObject();
    w->Key("workers");
    w->StartArray();
    for (const auto& [pipe, e] : workers_) {
      if (!e.registered) continue;
      w->StartObject();
      w->Key("id");
      WriteString(w, e.id);
      w->Key("host");
      WriteString(w, e.hello.host);
      w->Key("instance");
      w->Int64(e.hello.instance);
      w->Key("cpu");
      w->Int64(e.hello.cpu);
      w->Key("cores");
      w->Int64(e.hello.cores);
      w->Key("version");
      WriteString(w, e.hello.version);
      w->Key("pid");
      w->Int64(e.hello.pid);
      w->Key("state");
      w->String(e.lost ? "lost" : e.run_id.empty() ? "idle" : "busy");
      w->Key("run_id");
      WriteString(w, e.run_id);
      w->Key("users");
      w->Int64(e.users);
      w->Key("cpu_percent");
      w->Double(std::round(e.cpu_percent * 10) / 10);
      w->Key("last_seen_ms");
      w->Int64((now - e.last_seen_ns) / kNsPerMs);
      w->Key("connected_s");
      w->Double(std::round(static_cast<double>(now - e.connected_ns) / 1e8) / 10);
      w->EndObject();
    }
    w->EndArray();
    w->EndObject();
  });
}

size_t Coordinator::LiveWorkers() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::count_if(workers_.begin(), workers_.end(),
                       [](const auto& p) { return p.second.registered && !p.second.lost; });
}

std::string Coordinator::Health() {
  size_t live = LiveWorkers();
  return ToJson([&](JsonWriter* w) {
    w->StartObject();
    w->Key("status");
    w->String("ok");
    w->Key("version");
    w->String(LOADD_VERSION);
    w->Key("workers");
    w->Uint64(live);
    w->EndObject();
  });
}

}  // namespace loadd
