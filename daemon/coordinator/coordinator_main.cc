#include "daemon/coordinator/coordinator_main.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/coordinator/audit_log.h"
#include "daemon/coordinator/auth.h"
#include "daemon/coordinator/bus_server.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/coordinator_flags.h"
#include "daemon/coordinator/limits.h"
#include "daemon/coordinator/reload.h"
#include "daemon/coordinator/rest_api.h"
#include "daemon/coordinator/store_options.h"
#include "daemon/notifier.h"

namespace loadd {

// Flags live in coordinator_flags.cc (DefineCoordinatorFlags): a SIGHUP
// parses them again, so every flag must be defined there.
int CoordinatorMain(int argc, char** argv) {
  // Blocked first, so a SIGHUP during start-up does not end the process; every
  // thread started below inherits the mask, and main sigwaits for them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  CoordinatorFlags flags;
  Result<bool> parsed = ParseCoordinatorFlags(argc, argv, &flags, &std::cout);
  SetLogTag("loadd-coordinator");
  if (!parsed.ok()) {
    LOG_ERROR("%s", parsed.status().ToString().c_str());
    return 2;
  }
  if (!*parsed) return 0;  // --help
  Result<LiveSettings> live = LoadLiveSettings(flags);
  Result<RestOptions> rest = live.ok() ? RestOptionsFromFlags(flags, live->limits)
                                       : Result<RestOptions>(live.status());
  Result<BusServerOptions> bus_options = flags.bus.Load();
  for (const Status& st : {rest.status(), bus_options.status()}) {
    if (!st.ok()) {
      LOG_ERROR("%s", st.ToString().c_str());
      return 2;
    }
  }
  ApplyStoreOptions(flags.store, &flags.config);
  Result<std::unique_ptr<RunStore>> store = OpenRunStore(flags.store);
  if (!store.ok()) {
    LOG_ERROR("%s", store.status().ToString().c_str());
    return 2;
  }

  BearerAuth auth;
  auth.SetTokens(AllTokens(*live));
  Result<std::unique_ptr<AuditLog>> audit =
      AuditLog::Open(flags.store.state_dir, RealClock::Get());
  if (!audit.ok()) {
    LOG_ERROR("%s", audit.status().ToString().c_str());
    return 2;
  }
  LiveLimits limits(live->limits);
  BusServer bus;
  Coordinator coordinator(&bus, RealClock::Get(), flags.config, store->get());
  coordinator.set_limits(&limits);  // assigns carry its --allow-host list
  Status st = coordinator.LoadStoredRuns();
  if (!st.ok()) {
    LOG_ERROR("%s", st.ToString().c_str());
    return 1;
  }
  Persister persister(&coordinator);  // writes runs until the end of main
  bus.set_coordinator(&coordinator);
  st = bus.Listen(flags.bus_url, std::move(*bus_options));
  RestApi api(&coordinator, &auth, &limits, RealClock::Get(), audit->get());
  if (st.ok()) st = api.Serve(*rest);
  if (!st.ok()) {
    LOG_ERROR("%s", st.ToString().c_str());
    bus.Close();  // before the coordinator its callbacks use goes away
    return 1;
  }
  std::string hosts;
  for (const std::string& entry : live->limits.hosts.entries()) {
    hosts += (hosts.empty() ? "" : ", ") + entry;
  }
  LOG_INFO("coordinator up: bus %s, REST %s://%s, config file %s; plans may target %s",
           flags.bus_url.c_str(), rest->tls_cert_file.empty() ? "http" : "https",
           flags.rest.c_str(),
           flags.config_file.empty() ? "none" : flags.config_file.c_str(), hosts.c_str());
  SystemdNotifier notifier;  // READY=1 now that REST and the bus listen
  notifier.Ready();

  std::atomic<bool> stop{false};
  int64_t notify_every_ns = notifier.watchdog_interval_ns() > 0
                                ? std::min(notifier.watchdog_interval_ns(), kNsPerSec)
                                : kNsPerSec;
  int64_t next_notify_ns = 0;
  const std::string listening = " workers; REST " + flags.rest + ", bus " + flags.bus_url;
  std::thread ticker([&] {
    while (!stop.load()) {
      coordinator.Tick();
      // The watchdog is pinged from this thread: it drives liveness and runs.
      if (notifier.enabled() && MonotonicNowNs() >= next_notify_ns) {
        if (notifier.watchdog_interval_ns() > 0) notifier.Watchdog();
        notifier.SetStatus(std::to_string(coordinator.LiveWorkers()) + listening);
        next_notify_ns = MonotonicNowNs() + notify_every_ns;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  Reloader reloader(argc, argv, flags, std::move(*live),
                    ReloadTargets{&auth, &limits, &bus, rest->max_body_bytes});
  int sig = 0;
  while (sigwait(&mask, &sig) == 0 && sig == SIGHUP) {
    LOG_INFO("SIGHUP: reloading the config file and the token files");
    (void)reloader.Reload();
  }
  LOG_INFO("signal %d: shutting down", sig);
  notifier.Stopping();
  stop = true;
  ticker.join();
  api.Shutdown();
  bus.Close();
  return 0;
}

}  // namespace loadd
