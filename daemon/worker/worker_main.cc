#include "daemon/worker/worker_main.h"

#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <thread>

#include "common/bus_auth.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/units.h"
#include "daemon/notifier.h"
#include "daemon/worker/bus_client.h"
#include "daemon/worker/notify_ticker.h"
#include "daemon/worker/worker.h"
#include "daemon/worker/worker_flags.h"

namespace loadd {
namespace {

constexpr const char* kDefaultConfigFile = "/etc/loadd/worker.conf";

// Signals arrive on the loop through a signalfd, so they are handled on the
// loop thread like everything else. SIGTERM/SIGINT stop gracefully; SIGHUP
// re-reads the fleet key file, so new connections use a rotated key (the
// current connection keeps its session; other settings need a restart).
class SignalHandler final : public IoHandler {
 public:
  SignalHandler(int fd, Worker* worker, BusClient* bus, std::string key_file)
      : fd_(fd), worker_(worker), bus_(bus), key_file_(std::move(key_file)) {}
  void OnIo(uint32_t) override {
    signalfd_siginfo info;
    while (read(fd_, &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGHUP) {
        ReloadKey();
        continue;
      }
      LOG_INFO("signal %d: stopping", static_cast<int>(info.ssi_signo));
      worker_->Shutdown();
    }
  }

 private:
  void ReloadKey() {
    Result<std::string> key = LoadFleetKey(key_file_, "--fleet-key-file");
    if (!key.ok()) {
      LOG_ERROR("SIGHUP: %s; keeping the fleet key loaded before",
                key.status().ToString().c_str());
      return;
    }
    bus_->SetFleetKey(std::move(*key));
    LOG_INFO("SIGHUP: fleet key reloaded from %s; new connections prove it",
             key_file_.c_str());
  }

  int fd_;
  Worker* worker_;
  BusClient* bus_;
  std::string key_file_;
};

// CLI11 2.1 applies a config file before the environment, so a key in the
// file would beat its environment variable (LOADD_FLEET_KEY_FILE). loadd's
// order is config file, then environment, then flags, each overriding the
// one before: drop the file's value of any option whose variable is set.
class EnvFirstConfig final : public CLI::ConfigTOML {
 public:
  explicit EnvFirstConfig(const CLI::App* app) : app_(app) {}
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> items = CLI::ConfigTOML::from_config(input);
    std::erase_if(items, [this](const CLI::ConfigItem& item) {
      const CLI::Option* opt = app_->get_option_no_throw("--" + item.name);
      if (!item.parents.empty() || opt == nullptr || opt->get_envname().empty())
        return false;
      // CLI11 ignores an empty variable, so the file's value stays then.
      const char* value = std::getenv(opt->get_envname().c_str());
      return value != nullptr && *value != '\0';
    });
    return items;
  }

 private:
  const CLI::App* app_;
};

struct BusFlags {
  std::string fleet_key_file = kDefaultFleetKeyFile;
  BusTlsOptions tls;
};

void AddBusFlags(CLI::App* app, BusFlags* f) {
  app->add_option(
         "--fleet-key-file", f->fleet_key_file,
         "file holding the fleet key shared with the coordinator (create one with "
         "`loadd keygen`; mode 600); SIGHUP re-reads it")
      ->envname("LOADD_FLEET_KEY_FILE")
      ->capture_default_str();
  app->add_option("--bus-tls-ca", f->tls.ca_file,
                  "PEM CA that signed the coordinator's certificate (required for a "
                  "tls+tcp:// --coordinator)");
  app->add_option("--bus-tls-cert", f->tls.cert_file,
                  "PEM client certificate, if the coordinator asks for one");
  app->add_option("--bus-tls-key", f->tls.key_file, "PEM private key of --bus-tls-cert");
  app->add_option("--bus-tls-server-name", f->tls.server_name,
                  "name the coordinator's certificate must carry (default: the host in "
                  "--coordinator)");
}

Status PinToCpu(int64_t cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<int>(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    return Status::Invalid(
        "--cpu", "cannot pin to CPU " + std::to_string(cpu) + ": " + strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

int WorkerMain(int argc, char** argv) {
  CLI::App app{"loadd worker: generates load for the coordinator's runs", "loadd worker"};
  app.set_config(
      "--config", kDefaultConfigFile,
      "TOML/INI file of settings: any flag without its dashes as a key, e.g. "
      "coordinator = \"tcp://10.0.0.1:5557\" (a missing default file is fine)");
  app.config_formatter(std::make_shared<EnvFirstConfig>(&app));
  app.allow_config_extras(CLI::config_extras_mode::error);
  WorkerConfig config;
  BusFlags bus_flags;
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
  std::vector<std::string> label_args;
  AddLabelFlag(&app, &label_args);
  app.add_option("--coordinator-grace", grace,
                 "stop load after this long without word from the coordinator")
      ->capture_default_str();
  app.add_option(
         "--engine", engine,
         "HTTP engine: auto (native HTTP/1.1 over TCP or TLS; libcurl for HTTP/2: "
         "http_version 2, or an https host offering h2), native, curl")
      ->capture_default_str();
  app.add_option("--stats-interval", stats_interval,
                 "how often stats go to the coordinator (10ms to 1s; shorter loses less "
                 "when this process dies)")
      ->capture_default_str();
  app.add_option(
         "--loopback-sources", config.loopback_sources,
         "on: connections to a 127.0.0.0/8 target come from 16 127.x source "
         "addresses of this instance's own, so tens of thousands of them do not run "
         "out of ports; off: from the address the kernel picks (127.0.0.1), for a "
         "server that admits only that")
      ->envname("LOADD_SOURCE_ADDRS")
      ->default_str("on");
  AddBusFlags(&app, &bus_flags);
  CLI11_PARSE(app, argc, argv);

  Result<int64_t> interval_ns = ParseDurationNs(stats_interval);
  if (!interval_ns.ok() || *interval_ns < 10 * kNsPerMs || *interval_ns > kNsPerSec) {
    LOG_ERROR("--stats-interval: must be a duration from 10ms to 1s, got \"%s\"",
              stats_interval.c_str());
    return 2;
  }
  config.stats_interval_ms = *interval_ns / kNsPerMs;

  Result<Labels> labels = WorkerLabels(label_args);
  if (!labels.ok()) {
    LOG_ERROR("%s", labels.status().ToString().c_str());
    return 2;
  }
  config.labels = std::move(*labels);

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
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  BusClientOptions bus_options;
  Result<std::string> key = LoadFleetKey(bus_flags.fleet_key_file, "--fleet-key-file");
  if (!key.ok()) {
    LOG_ERROR("%s", key.status().ToString().c_str());
    return 2;
  }
  bus_options.fleet_key = std::move(*key);
  bus_options.fleet_key_file = bus_flags.fleet_key_file;
  bus_options.tls = bus_flags.tls;

  EventLoop loop;
  BusClient bus;
  Status st = loop.Init();
  if (st.ok()) st = bus.Dial(config.coordinator, std::move(bus_options));
  if (!st.ok()) {
    LOG_ERROR("%s", st.ToString().c_str());
    return st.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  Worker worker(&loop, &bus, config);
  // systemd (Type=notify): READY=1 on registration, STATUS= and the
  // watchdog pings from this loop (NotifyTicker).
  SystemdNotifier notifier;
  worker.set_notifier(&notifier);
  NotifyTicker notify_ticker(&loop, &notifier, [&worker] { return worker.StatusLine(); });
  if (notifier.enabled()) notify_ticker.Start(MonotonicNowNs());
  SignalHandler signals(sig_fd, &worker, &bus, bus_flags.fleet_key_file);
  st = worker.Start();
  if (st.ok()) st = loop.Add(sig_fd, EPOLLIN, &signals);
  if (!st.ok()) {
    LOG_ERROR("%s", st.ToString().c_str());
    return 1;
  }
  LOG_INFO("worker %s/%lld dialing %s (labels: %s)", config.host_id.c_str(),
           static_cast<long long>(config.instance), config.coordinator.c_str(),
           config.labels.empty() ? "none" : FormatLabels(config.labels).c_str());
  loop.Run();
  notifier.Stopping();
  // Give nng a moment to flush the final stats before the socket closes.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  close(sig_fd);
  return 0;
}

}  // namespace loadd
