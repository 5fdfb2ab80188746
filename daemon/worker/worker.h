// Worker: a loadd worker process's control logic on its event loop:
// registration, heartbeats, run assignment, per-second stats, and stopping
// load when the coordinator goes silent.
#ifndef LOADD_DAEMON_WORKER_WORKER_H_
#define LOADD_DAEMON_WORKER_WORKER_H_

#include <memory>
#include <string>

#include "common/wire.h"
#include "daemon/worker/bus_client.h"
#include "daemon/worker/engine.h"
#include "daemon/worker/event_loop.h"

namespace loadd {

struct WorkerConfig {
  std::string coordinator = "tcp://127.0.0.1:5557";
  std::string host_id;        // empty: the machine's host name
  int64_t instance = 0;
  int64_t cpu = -1;           // pinned CPU, -1 for none
  int64_t coordinator_grace_ms = 10'000;  // silence after which load stops
  EngineKind engine = EngineKind::kAuto;
  // How often stats go to the coordinator. Shorter loses less when a worker
  // dies (its unsent stats die with it) and costs the coordinator more.
  int64_t stats_interval_ms = 1000;
};

class Worker final : public IoHandler, public TimerHandler {
 public:
  Worker(EventLoop* loop, BusClient* bus, WorkerConfig config);
  ~Worker() override;

  Status Start();
  // Graceful stop (SIGTERM): ends the run, sends its final stats, then stops
  // the loop.
  void Shutdown();

  void OnIo(uint32_t events) override;  // bus readable
  void OnTimer() override;              // once a second

  const std::string& run_id() const { return run_id_; }

 private:
  class StatsTicker : public TimerHandler {
   public:
    explicit StatsTicker(Worker* w) : worker_(w) {}
    void OnTimer() override { worker_->OnStatsTick(); }

   private:
    Worker* worker_;
  };

  void Handle(Message msg);
  void StartRun(AssignMsg assign);
  void OnStatsTick();
  void SendStats(bool final);
  void OnRunDone();
  void Send(const Message& msg);
  double SampleCpuPercent();

  EventLoop* loop_;
  BusClient* bus_;
  WorkerConfig config_;
  Timer heartbeat_timer_{this};
  StatsTicker ticker_{this};
  Timer stats_timer_{&ticker_};
  uint64_t registered_epoch_ = 0;
  int64_t last_coordinator_ns_ = 0;
  std::unique_ptr<Engine> engine_;
  std::string run_id_;
  int64_t stats_seq_ = 0;
  int64_t next_stats_ns_ = 0;
  bool shutting_down_ = false;
  double cpu_percent_ = 0;
  int64_t cpu_sample_wall_ns_ = 0;
  int64_t cpu_sample_used_ns_ = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_WORKER_H_
