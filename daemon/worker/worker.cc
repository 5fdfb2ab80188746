#include "daemon/worker/worker.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

namespace loadd {
namespace {

constexpr int64_t kTickNs = kNsPerSec;

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

Worker::Worker(EventLoop* loop, BusClient* bus, WorkerConfig config)
    : loop_(loop), bus_(bus), config_(std::move(config)) {
  if (config_.host_id.empty()) config_.host_id = HostName();
}

Worker::~Worker() = default;

Status Worker::Start() {
  LOADD_RETURN_IF_ERROR(loop_->Add(bus_->recv_fd(), EPOLLIN, this));
  last_coordinator_ns_ = MonotonicNowNs();
  cpu_sample_wall_ns_ = MonotonicNowNs();
  cpu_sample_used_ns_ = ProcessCpuNs();
  loop_->Arm(&heartbeat_timer_, MonotonicNowNs() + 50 * kNsPerMs);
  return Status::Ok();
}

void Worker::Send(const Message& msg) {
  Status st = bus_->Send(EncodeMessage(msg));
  if (!st.ok()) LOG_DEBUG("%s not sent: %s", MessageTypeName(msg), st.ToString().c_str());
}

double Worker::SampleCpuPercent() {
  int64_t wall = MonotonicNowNs();
  int64_t used = ProcessCpuNs();
  if (wall - cpu_sample_wall_ns_ >= 200 * kNsPerMs) {
    cpu_percent_ = 100.0 * static_cast<double>(used - cpu_sample_used_ns_) /
                   static_cast<double>(wall - cpu_sample_wall_ns_);
    cpu_sample_wall_ns_ = wall;
    cpu_sample_used_ns_ = used;
  }
  return cpu_percent_;
}

void Worker::OnTimer() {
  int64_t now = MonotonicNowNs();
  uint64_t epoch = bus_->connection_epoch();
  if (epoch != registered_epoch_ && bus_->connected()) {
    HelloMsg hello{config_.host_id, config_.instance, config_.cpu,
                   sysconf(_SC_NPROCESSORS_ONLN), getpid(), LOADD_VERSION, run_id_};
    if (bus_->Send(EncodeMessage(hello)).ok()) registered_epoch_ = epoch;
  }
  if (registered_epoch_ == epoch) {
    Send(HeartbeatMsg{run_id_, engine_ ? engine_->active_users() : 0, SampleCpuPercent()});
  }
  if (engine_ && now - last_coordinator_ns_ > config_.coordinator_grace_ms * kNsPerMs) {
    LOG_WARN("run %s: no word from the coordinator for %lld ms; stopping load", run_id_.c_str(),
             static_cast<long long>((now - last_coordinator_ns_) / kNsPerMs));
    engine_->Stop();
  }
  // Re-register quickly after a reconnect; otherwise once a second.
  loop_->Arm(&heartbeat_timer_, now + (registered_epoch_ == epoch ? kTickNs : 100 * kNsPerMs));
}

void Worker::OnIo(uint32_t) {
  std::string bytes;
  while (bus_->TryRecv(&bytes)) {
    Result<Message> msg = DecodeMessage(bytes);
    if (!msg.ok()) {
      LOG_WARN("dropped a bad bus message: %s", msg.status().ToString().c_str());
      continue;
    }
    last_coordinator_ns_ = MonotonicNowNs();
    Handle(std::move(*msg));
  }
}

void Worker::Handle(Message msg) {
  if (auto* welcome = std::get_if<WelcomeMsg>(&msg)) {
    LOG_INFO("registered with the coordinator as %s", welcome->worker_id.c_str());
  } else if (auto* assign = std::get_if<AssignMsg>(&msg)) {
    StartRun(std::move(*assign));
  } else if (auto* reshare = std::get_if<ReshareMsg>(&msg)) {
    if (engine_ && reshare->run_id == run_id_) {
      LOG_INFO("run %s: share changes (%zu class(es))", run_id_.c_str(), reshare->changes.size());
      engine_->Reshare(reshare->changes, reshare->handover_rate);
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
  Status st = engine->Prepare();
  run_id_ = assign.run_id;
  stats_seq_ = 0;
  if (!st.ok()) {
    LOG_ERROR("run %s cannot start: %s", run_id_.c_str(), st.ToString().c_str());
    SendStats(/*final=*/true);
    run_id_.clear();
    return;
  }
  engine_ = std::move(engine);
  engine_->set_on_done([this] { OnRunDone(); });
  int64_t now = MonotonicNowNs();
  int64_t start_ns = now - assign.run_time_ms * kNsPerMs;
  engine_->Start(start_ns, assign.share, assign.handover_rate);
  // Stats ticks fall on whole intervals of run time, so every worker's
  // messages cover the same spans (a worker joining late ticks in step too).
  int64_t interval = config_.stats_interval_ms * kNsPerMs;
  next_stats_ns_ = start_ns + interval;
  if (next_stats_ns_ < now) next_stats_ns_ += ((now - next_stats_ns_) / interval + 1) * interval;
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
  LOG_INFO("run %s: done, %lld requests", run_id_.c_str(),
           static_cast<long long>(engine_->stats().total_requests()));
  loop_->Disarm(&stats_timer_);
  engine_.reset();
  run_id_.clear();
  if (shutting_down_) loop_->Stop();
}

void Worker::Shutdown() {
  shutting_down_ = true;
  if (engine_) {
    engine_->Stop();  // OnRunDone stops the loop after the final stats
  } else {
    loop_->Stop();
  }
}

}  // namespace loadd
