#include "daemon/worker/worker_main.h"

#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "common/units.h"
#include "daemon/worker/worker.h"

namespace loadd {
namespace {

// SIGTERM/SIGINT arrive on the loop through a signalfd, so shutdown runs on
// the loop thread like everything else.
class SignalHandler final : public IoHandler {
 public:
  SignalHandler(int fd, Worker* worker) : fd_(fd), worker_(worker) {}
  void OnIo(uint32_t) override {
    signalfd_siginfo info;
    while (read(fd_, &info, sizeof info) == sizeof info) {
      LOG_INFO("signal %d: stopping", static_cast<int>(info.ssi_signo));
      worker_->Shutdown();
    }
  }

 private:
  int fd_;
  Worker* worker_;
};

Status PinToCpu(int64_t cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<int>(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    return Status::Invalid("--cpu", "cannot pin to CPU " + std::to_string(cpu) + ": " +
                                        strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

int WorkerMain(int argc, char** argv) {
  CLI::App app{"loadd worker: generates load for the coordinator's runs", "loadd worker"};
  WorkerConfig config;
  std::string grace = "10s";
  std::string engine = "auto";
  std::string stats_interval = "1s";
  app.add_option("--coordinator", config.coordinator, "fleet bus URL of the coordinator")
      ->capture_default_str();
  app.add_option("--cpu", config.cpu, "pin this process to CPU N (-1: no pinning)")
      ->capture_default_str();
  app.add_option("--instance", config.instance, "instance number (loadd@N)")
      ->capture_default_str();
  app.add_option("--host-id", config.host_id, "host identity (default: host name)");
  app.add_option("--coordinator-grace", grace,
                 "stop load after this long without word from the coordinator")
      ->capture_default_str();
  app.add_option("--engine", engine,
                 "HTTP engine: auto (native HTTP/1.1, libcurl for https), native, curl")
      ->capture_default_str();
  app.add_option("--stats-interval", stats_interval,
                 "how often stats go to the coordinator (10ms to 1s; shorter loses less "
                 "when this process dies)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  Result<int64_t> interval_ns = ParseDurationNs(stats_interval);
  if (!interval_ns.ok() || *interval_ns < 10 * kNsPerMs || *interval_ns > kNsPerSec) {
    LOG_ERROR("--stats-interval: must be a duration from 10ms to 1s, got \"%s\"",
              stats_interval.c_str());
    return 2;
  }
  config.stats_interval_ms = *interval_ns / kNsPerMs;

  Result<EngineKind> kind = ParseEngineKind(engine);
  if (!kind.ok()) {
    LOG_ERROR("%s", kind.status().ToString().c_str());
    return 2;
  }
  config.engine = *kind;

  Result<int64_t> grace_ns = ParseDurationNs(grace);
  if (!grace_ns.ok()) {
    LOG_ERROR("--coordinator-grace: %s", grace_ns.status().message().c_str());
    return 2;
  }
  config.coordinator_grace_ms = *grace_ns / 1'000'000;
  SetLogTag("loadd-worker/" + std::to_string(config.instance));
  if (config.cpu >= 0) {
    Status st = PinToCpu(config.cpu);
    if (!st.ok()) {
      LOG_ERROR("%s", st.ToString().c_str());
      return 2;
    }
  }
  // Timers start users and (open model) arrivals: the default 50 us slack
  // measurably delays them on an idle core.
  prctl(PR_SET_TIMERSLACK, 1UL);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  EventLoop loop;
  BusClient bus;
  Status st = loop.Init();
  if (st.ok()) st = bus.Dial(config.coordinator);
  if (!st.ok()) {
    LOG_ERROR("%s", st.ToString().c_str());
    return 1;
  }
  Worker worker(&loop, &bus, config);
  SignalHandler signals(sig_fd, &worker);
  st = worker.Start();
  if (st.ok()) st = loop.Add(sig_fd, EPOLLIN, &signals);
  if (!st.ok()) {
    LOG_ERROR("%s", st.ToString().c_str());
    return 1;
  }
  LOG_INFO("worker %s/%lld dialing %s", config.host_id.c_str(),
           static_cast<long long>(config.instance), config.coordinator.c_str());
  loop.Run();
  // Give nng a moment to flush the final stats before the socket closes.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  close(sig_fd);
  return 0;
}

}  // namespace loadd
