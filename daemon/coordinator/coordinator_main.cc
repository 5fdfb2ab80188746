#include "daemon/coordinator/coordinator_main.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/coordinator/bus_server.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/rest_api.h"

namespace loadd {

int CoordinatorMain(int argc, char** argv) {
  CLI::App app{"loadd coordinator: the fleet's REST API, worker registry and stats merger",
               "loadd coordinator"};
  // Loopback by default: until the bus and the API carry authentication,
  // exposing them is an explicit operator decision (--bus tcp://0.0.0.0:5557).
  std::string bus_url = "tcp://127.0.0.1:5557";
  std::string rest = "127.0.0.1:8089";
  int rest_threads = 2;
  CoordinatorConfig config;
  app.add_option("--bus", bus_url, "fleet bus URL workers dial")->capture_default_str();
  app.add_option("--rest", rest, "HOST:PORT of the REST API")->capture_default_str();
  app.add_option("--rest-threads", rest_threads, "REST server threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--heartbeat-timeout-ms", config.heartbeat_timeout_ms,
                 "a worker silent this long is lost")
      ->capture_default_str()
      ->check(CLI::Range(500, 600000));
  CLI11_PARSE(app, argc, argv);
  SetLogTag("loadd-coordinator");

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);  // every thread started below inherits it
  signal(SIGPIPE, SIG_IGN);

  BusServer bus;
  Coordinator coordinator(&bus, RealClock::Get(), config);
  bus.set_coordinator(&coordinator);
  Status st = bus.Listen(bus_url);
  RestApi api(&coordinator);
  if (st.ok()) st = api.Serve(rest, rest_threads);
  if (!st.ok()) {
    LOG_ERROR("%s", st.ToString().c_str());
    bus.Close();  // before the coordinator its callbacks use goes away
    return 1;
  }
  LOG_INFO("coordinator up: bus %s, REST http://%s", bus_url.c_str(), rest.c_str());

  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    while (!stop.load()) {
      coordinator.Tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  int sig = 0;
  sigwait(&mask, &sig);
  LOG_INFO("signal %d: shutting down", sig);
  stop = true;
  ticker.join();
  api.Shutdown();
  bus.Close();
  return 0;
}

}  // namespace loadd
