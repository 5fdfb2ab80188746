// Worker: a loadd worker process's control logic on its event loop:
// registration, heartbeats, run assignment, per-second stats, stopping load
// when the coordinator goes silent (CoordinatorWatch), and the graceful exit
// (final stats, then goodbye).
#ifndef LOADD_DAEMON_WORKER_WORKER_H_
#define LOADD_DAEMON_WORKER_WORKER_H_

#include <memory>
#include <string>

#include "common/wire.h"
#include "daemon/notifier.h"
#include "daemon/worker/coordinator_watch.h"
#include "daemon/worker/engine.h"
#include "daemon/worker/event_loop.h"
#include "daemon/worker/worker_bus.h"

namespace loadd {

struct WorkerConfig {
  std::string coordinator = "tcp://127.0.0.1:5557";
  std::string host_id;  // empty: the machine's host name
  Labels labels;        // --label: sent in every hello
  int64_t instance = 0;
  int64_t cpu = -1;  // pinned CPU, -1 for none
  // Silence after which load stops; sooner if the coordinator's heartbeat
  // timeout is shorter (it deals a silent worker's share out then).
  int64_t coordinator_grace_ms = 10'000;
  // Graceful exit: requests in flight get the plan's graceful_stop, at most
  // this long.
  int64_t shutdown_drain_ms = 3000;
  EngineKind engine = EngineKind::kAuto;
  // Connections to IPv4 loopback targets from this instance's own 127.x
  // addresses (source_addr.h); off: from the address the kernel picks.
  bool loopback_sources = true;
  // How often stats go to the coordinator. Shorter loses less when a worker
  // dies (its unsent stats die with it) and costs the coordinator more.
  int64_t stats_interval_ms = 1000;
};

class Worker final : public IoHandler, public TimerHandler {
 public:
  // loop and bus are not owned and must outlive the worker; all time is the
  // loop's clock (tests run it on a FakeClock and a fake bus).
  Worker(EventLoop* loop, WorkerBus* bus, WorkerConfig config);
  ~Worker() override;

  Status Start();
  // Graceful exit (SIGTERM): no new request starts; those in flight get the
  // plan's graceful_stop (at most shutdown_drain_ms); then the final stats
  // and a goodbye go to the coordinator and the loop stops. Bounded: the
  // loop stops within shutdown_drain_ms + 1.5 s whatever the coordinator
  // does. A second call ends at once (in-flight requests are interrupted).
  void Shutdown();

  void OnIo(uint32_t events) override;  // bus readable
  void OnTimer() override;              // every heartbeat interval

  const std::string& run_id() const { return run_id_; }
  // systemd: Ready() when the coordinator welcomes this worker. Not owned;
  // null for none.
  void set_notifier(Notifier* notifier) { notifier_ = notifier; }
  // Where the runs' target host names resolve (not owned; tests give a
  // FakeResolver). Default: DefaultResolver().
  void set_resolver(Resolver* resolver) { resolver_ = resolver; }
  // One line for `systemctl status` (STATUS=): registration, run, users.
  std::string StatusLine() const;

 private:
  // A timer that calls one of the worker's methods.
  class Call final : public TimerHandler {
   public:
    Call(Worker* w, void (Worker::*fn)()) : worker_(w), fn_(fn) {}
    void OnTimer() override { (worker_->*fn_)(); }

   private:
    Worker* worker_;
    void (Worker::*fn_)();
  };

  void Handle(Message msg);
  // The coordinator was silent past the limit: stop load, register again.
  void Adrift(int64_t silence_ms);
  void SendHello(uint64_t epoch);
  void OnShutdownDeadline();
  // Goodbye to the coordinator, then the loop stops.
  void Leave();
  void StartRun(AssignMsg assign);
  void OnStatsTick();
  void SendStats(bool final);
  void OnRunDone();
  void Send(const Message& msg);
  void NoteHeartbeatLateness(int64_t late_ns);
  double SampleCpuPercent();

  EventLoop* loop_;
  WorkerBus* bus_;
  WorkerConfig config_;
  // Urgent (event_loop.h): served between batches of a connection storm.
  Timer heartbeat_timer_{this, nullptr, /*urgent=*/true};
  int64_t last_sent_ns_ = 0;  // monotonic ns of the last message the bus took
  Call stats_call_{this, &Worker::OnStatsTick};
  Timer stats_timer_{&stats_call_, nullptr, /*urgent=*/true};
  Call shutdown_call_{this, &Worker::OnShutdownDeadline};
  Timer shutdown_timer_{&shutdown_call_, nullptr, /*urgent=*/true};
  uint64_t registered_epoch_ = 0;
  CoordinatorWatch watch_;
  std::unique_ptr<Engine> engine_;
  std::string run_id_;
  int64_t stats_seq_ = 0;
  int64_t next_stats_ns_ = 0;
  bool shutting_down_ = false;
  bool forced_ = false;  // the shutdown deadline passed once
  bool left_ = false;    // goodbye sent
  double cpu_percent_ = 0;
  Notifier* notifier_ = nullptr;
  Resolver* resolver_ = DefaultResolver();
  bool welcomed_ = false;  // by the coordinator, since the last silence
  int64_t cpu_sample_wall_ns_ = 0;
  int64_t cpu_sample_used_ns_ = 0;
  int64_t worst_heartbeat_late_ns_ = 0;  // this run's, over its heartbeat deadlines
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_WORKER_H_
