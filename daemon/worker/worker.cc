#include "daemon/worker/worker.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/worker/source_addr.h"

namespace loadd {
namespace {

int64_t ProcessCpuNs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (int64_t{ru.ru_utime.tv_sec} + ru.ru_stime.tv_sec) * kNsPerSec +
         (int64_t{ru.ru_utime.tv_usec} + ru.ru_stime.tv_usec) * kNsPerUs;
}

std::string HostName() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

}  // namespace

Worker::Worker(EventLoop* loop, WorkerBus* bus, WorkerConfig config)
    : loop_(loop),
      bus_(bus),
      config_(std::move(config)),
      watch_(config_.coordinator_grace_ms) {
  if (config_.host_id.empty()) config_.host_id = HostName();
  // Connections to loopback targets come from this instance's own 127.x
  // addresses (source_addr.h).
  SetSourceInstance(config_.instance);
  SetLoopbackSources(config_.loopback_sources);
}

Worker::~Worker() = default;

Status Worker::Start() {
  LOADD_RETURN_IF_ERROR(loop_->Add(bus_->recv_fd(), EPOLLIN, this));
  watch_.Reset(loop_->NowNs());
  cpu_sample_wall_ns_ = loop_->NowNs();
  cpu_sample_used_ns_ = ProcessCpuNs();
  loop_->Arm(&heartbeat_timer_, loop_->NowNs() + 50 * kNsPerMs);
  return Status::Ok();
}

void Worker::Send(const Message& msg) {
  Status st = bus_->Send(EncodeMessage(msg));
  if (st.ok()) {
    last_sent_ns_ = loop_->NowNs();
  } else {
    LOG_DEBUG("%s not sent: %s", MessageTypeName(msg), st.ToString().c_str());
  }
}

double Worker::SampleCpuPercent() {
  int64_t wall = loop_->NowNs();
  int64_t used = ProcessCpuNs();
  if (wall - cpu_sample_wall_ns_ >= 200 * kNsPerMs) {
    cpu_percent_ = 100.0 * static_cast<double>(used - cpu_sample_used_ns_) /
                   static_cast<double>(wall - cpu_sample_wall_ns_);
    cpu_sample_wall_ns_ = wall;
    cpu_sample_used_ns_ = used;
  }
  return cpu_percent_;
}

void Worker::SendHello(uint64_t epoch) {
  HelloMsg hello{
      config_.host_id, config_.instance, config_.cpu, sysconf(_SC_NPROCESSORS_ONLN),
      getpid(),        LOADD_VERSION,    run_id_,     config_.labels};
  if (bus_->Send(EncodeMessage(hello)).ok()) {
    registered_epoch_ = epoch;
    last_sent_ns_ = loop_->NowNs();  // a hello is word from this worker too
  }
}

void Worker::OnTimer() {
  int64_t now = loop_->NowNs();
  NoteHeartbeatLateness(now - heartbeat_timer_.deadline_ns);
  uint64_t epoch = bus_->connection_epoch();
  if (epoch != registered_epoch_ && bus_->connected()) SendHello(epoch);
  bool registered = registered_epoch_ == epoch;
  // Any message tells the coordinator this worker is alive, and stats carry
  // what a heartbeat does (users, CPU, run): a heartbeat goes only after a
  // heartbeat interval with nothing sent, so a worker sending stats every
  // second at a 1 s interval sends no heartbeats (half the messages a
  // coordinator of 10,000 workers reads). Checked every half interval, so
  // the silence the coordinator sees stays under 1.5 intervals (it allows 3).
  int64_t interval = watch_.heartbeat_interval_ns();
  if (registered && now - last_sent_ns_ >= interval) {
    Send(
        HeartbeatMsg{run_id_, engine_ ? engine_->active_users() : 0, SampleCpuPercent()});
  }
  if (watch_.Check(now)) Adrift(watch_.silence_ms(now));
  // Re-register quickly after a reconnect.
  loop_->Arm(&heartbeat_timer_, now + (registered ? interval / 2 : 100 * kNsPerMs));
}

// How late the heartbeat timer fired is how long the load loop was busy
// with other work: past a second the coordinator may soon count this
// worker lost. Warned when a run sets a new worst (so rarely), and the
// worst is logged at the run's end (bench/many_conns.py reads it).
void Worker::NoteHeartbeatLateness(int64_t late_ns) {
  if (!engine_ || late_ns <= worst_heartbeat_late_ns_) return;
  worst_heartbeat_late_ns_ = late_ns;
  if (late_ns >= kNsPerSec) {
    LOG_WARN("run %s: the event loop was busy for %lld ms (heartbeat late; %lld users)",
             run_id_.c_str(), static_cast<long long>(late_ns / kNsPerMs),
             static_cast<long long>(engine_->active_users()));
  }
}

void Worker::Adrift(int64_t silence_ms) {
  long long limit_ms = static_cast<long long>(watch_.limit_ms());
  if (engine_) {
    // By now the coordinator has dealt this share out to the other workers
    // (or is gone): carrying on would run it twice.
    LOG_WARN(
        "run %s: no word from the coordinator for %lld ms (limit %lld ms); stopping load",
        run_id_.c_str(), static_cast<long long>(silence_ms), limit_ms);
    engine_->Stop();
  } else {
    LOG_INFO("no word from the coordinator for %lld ms (limit %lld ms)",
             static_cast<long long>(silence_ms), limit_ms);
  }
  // Say hello again (after the final stats): a coordinator that declared
  // this worker lost, or forgot it, takes it back as a new, idle worker.
  registered_epoch_ = 0;
  welcomed_ = false;
}

void Worker::OnIo(uint32_t) {
  std::string bytes;
  while (bus_->TryRecv(&bytes)) {
    Result<Message> msg = DecodeMessage(bytes);
    if (!msg.ok()) {
      LOG_WARN("dropped a bad bus message: %s", msg.status().ToString().c_str());
      continue;
    }
    int64_t now = loop_->NowNs();
    int64_t silence_ms = watch_.silence_ms(now);
    if (watch_.adrift()) {
      LOG_INFO("the coordinator is heard again after %lld ms; registering again",
               static_cast<long long>(silence_ms));
    }
    // Woken after a long silence (SIGSTOP, a link back up) with messages
    // queued: the load stops before anything else is done.
    if (watch_.Heard(now)) Adrift(silence_ms);
    Handle(std::move(*msg));
  }
}

void Worker::Handle(Message msg) {
  if (auto* welcome = std::get_if<WelcomeMsg>(&msg)) {
    watch_.OnWelcome(welcome->heartbeat_ms, welcome->heartbeat_timeout_ms);
    welcomed_ = true;
    if (notifier_) notifier_->Ready();
    LOG_INFO(
        "registered with the coordinator as %s (heartbeat every %lld ms; load stops "
        "after %lld ms without word from it)",
        welcome->worker_id.c_str(),
        static_cast<long long>(watch_.heartbeat_interval_ns() / kNsPerMs),
        static_cast<long long>(watch_.limit_ms()));
  } else if (auto* assign = std::get_if<AssignMsg>(&msg)) {
    StartRun(std::move(*assign));
  } else if (auto* reshare = std::get_if<ReshareMsg>(&msg)) {
    if (engine_ && reshare->run_id == run_id_) {
      LOG_INFO("run %s: share changes (%zu class(es))", run_id_.c_str(),
               reshare->changes.size());
      engine_->Reshare(reshare->changes, reshare->handover_rate);
    }
  } else if (auto* profile = std::get_if<ProfileMsg>(&msg)) {
    if (engine_ && profile->run_id == run_id_) {
      LoadProfile next(std::move(profile->knots));
      double to = next.knots().back().value;
      if (engine_->SetProfile(std::move(next))) {
        LOG_INFO("run %s: scaled to %g from run time %lld ms", run_id_.c_str(), to,
                 static_cast<long long>(profile->at_ms));
      } else {
        LOG_WARN("run %s: profile change refused: it does not end with the run",
                 run_id_.c_str());
      }
    }
  } else if (auto* stop = std::get_if<StopMsg>(&msg)) {
    if (engine_ && stop->run_id == run_id_) {
      LOG_INFO("run %s: stop requested by the coordinator", run_id_.c_str());
      engine_->Stop();
    }
  } else if (!std::holds_alternative<PingMsg>(msg)) {
    LOG_WARN("unexpected %s message from the coordinator", MessageTypeName(msg));
  }
}

void Worker::StartRun(AssignMsg assign) {
  if (engine_ || shutting_down_) {
    LOG_WARN("run %s refused: this worker is busy with run %s", assign.run_id.c_str(),
             run_id_.c_str());
    return;
  }
  auto engine = std::make_unique<Engine>(loop_, std::move(assign.plan), config_.engine);
  engine->set_resolver(resolver_);
  // The coordinator's --allow-host list; none sent (an older coordinator):
  // the default, loopback only. The wire reader already parsed it once.
  Result<HostAllowList> allow =
      assign.allow_hosts.empty()
          ? Result<HostAllowList>(HostAllowList())
          : HostAllowList::Parse(assign.allow_hosts, "allow_hosts");
  Status st = allow.ok() ? Status::Ok() : allow.status();
  if (allow.ok()) {
    engine->set_allow_list(std::move(*allow));
    st = engine->Prepare();
  }
  run_id_ = assign.run_id;
  stats_seq_ = 0;
  worst_heartbeat_late_ns_ = 0;
  if (!st.ok()) {
    LOG_ERROR("run %s cannot start: %s", run_id_.c_str(), st.ToString().c_str());
    SendStats(/*final=*/true);
    run_id_.clear();
    return;
  }
  engine_ = std::move(engine);
  engine_->set_on_done([this] { OnRunDone(); });
  int64_t now = loop_->NowNs();
  int64_t start_ns = now - assign.run_time_ms * kNsPerMs;
  engine_->Start(start_ns, assign.share, assign.handover_rate);
  // Stats ticks fall on whole intervals of run time, so every worker's
  // messages cover the same spans (a worker joining late ticks in step too).
  int64_t interval = config_.stats_interval_ms * kNsPerMs;
  next_stats_ns_ = start_ns + interval;
  if (next_stats_ns_ < now)
    next_stats_ns_ += ((now - next_stats_ns_) / interval + 1) * interval;
  loop_->Arm(&stats_timer_, next_stats_ns_);
}

void Worker::OnStatsTick() {
  if (!engine_) return;
  SendStats(/*final=*/false);
  next_stats_ns_ += config_.stats_interval_ms * kNsPerMs;
  loop_->Arm(&stats_timer_, next_stats_ns_);
}

void Worker::SendStats(bool final) {
  StatsMsg stats;
  stats.run_id = run_id_;
  stats.seq = stats_seq_++;
  stats.final = final;
  stats.cpu_percent = SampleCpuPercent();
  stats.interval_ms = config_.stats_interval_ms;
  if (engine_) {
    stats.users = engine_->active_users();
    stats.dropped = engine_->stats().TakeDropped();
    engine_->stats().Drain(&stats.endpoints);
    engine_->stats().DrainChecks(&stats.checks);
  }
  Send(stats);
}

void Worker::OnRunDone() {
  SendStats(/*final=*/true);
  LOG_INFO("run %s: done, %lld requests; heartbeat at most %.1f ms late", run_id_.c_str(),
           static_cast<long long>(engine_->stats().total_requests()),
           static_cast<double>(worst_heartbeat_late_ns_) / kNsPerMs);
  loop_->Disarm(&stats_timer_);
  engine_.reset();
  run_id_.clear();
  if (shutting_down_) Leave();
}

void Worker::Shutdown() {
  if (shutting_down_) {
    LOG_WARN("stop signal again: ending now");
    if (engine_) {
      engine_->Stop();  // OnRunDone sends the final stats and leaves
    } else {
      Leave();
    }
    return;
  }
  shutting_down_ = true;
  if (!engine_) {
    Leave();
    return;
  }
  int64_t drain_ns =
      std::min(engine_->plan().graceful_stop_ns, config_.shutdown_drain_ms * kNsPerMs);
  LOG_INFO("run %s: stopping load; requests in flight get %lld ms", run_id_.c_str(),
           static_cast<long long>(drain_ns / kNsPerMs));
  engine_->Finish(drain_ns);  // OnRunDone sends the final stats and leaves
  loop_->Arm(&shutdown_timer_, loop_->NowNs() + drain_ns + kNsPerSec);
}

void Worker::OnShutdownDeadline() {
  if (engine_ && !forced_) {
    forced_ = true;
    LOG_WARN("run %s: still busy after the drain; interrupting what is in flight",
             run_id_.c_str());
    engine_->Stop();
    loop_->Arm(&shutdown_timer_, loop_->NowNs() + 500 * kNsPerMs);
    return;
  }
  Leave();
}

void Worker::Leave() {
  if (left_) return;
  left_ = true;
  loop_->Disarm(&shutdown_timer_);
  // Without a coordinator the send fails at once; the exit is not delayed.
  Status st = bus_->Send(EncodeMessage(GoodbyeMsg{"shutting down"}));
  LOG_INFO("goodbye %s; exiting",
           st.ok() ? "sent to the coordinator" : "not sent (no coordinator)");
  loop_->Stop();
}

std::string Worker::StatusLine() const {
  std::string line = welcomed_ ? "registered with " : "connecting to ";
  line += config_.coordinator;
  if (engine_) {
    line +=
        "; run " + run_id_ + ": " + std::to_string(engine_->active_users()) + " users";
  } else {
    line += "; idle";
  }
  if (shutting_down_) line += "; stopping";
  return line;
}

}  // namespace loadd
