#include "daemon/target/target_main.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "common/log.h"
#include "daemon/target/target_server.h"

namespace loadd {
namespace {

// Each connection is an fd: lift the soft limit to the hard one.
void RaiseFdLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Parses flags into `options`; returns -1 to go on, else the exit code.
int ParseFlags(int argc, char** argv, TargetOptions* options) {
  CLI::App app{"A small, fast HTTP/1.1 server to aim load tests at.", "loadd target"};
  app.add_option("--listen", options->listen, "HOST:PORT to listen on; port 0 picks one")
      ->capture_default_str();
  app.add_option("--threads", options->threads, "event loop threads (0: one per CPU)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--max-connections", options->loop.max_connections,
                 "open connections at most; more are closed at once")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return -1;
}

}  // namespace

int TargetMain(int argc, char** argv) {
  TargetOptions options;
  int exit_code = ParseFlags(argc, argv, &options);
  if (exit_code >= 0) return exit_code;
  SetLogTag("target");
  RaiseFdLimit();

  // Block the stop signals before any thread starts, so they all inherit the
  // mask and only sigwait() below sees them. An inherited SIG_IGN (shells
  // ignore SIGINT for background jobs) would discard them: reset it.
  // Delays are timers: without this the kernel may fire them up to 50 us late.
  prctl(PR_SET_TIMERSLACK, 1UL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  TargetServer server(options);
  Status status = server.Start();
  if (!status.ok()) {
    LOG_ERROR("cannot start: %s", status.ToString().c_str());
    return 1;
  }
  std::printf("listening on %s\n", server.address().ToString().c_str());
  std::fflush(stdout);
  LOG_INFO("serving on %s with %d threads", server.address().ToString().c_str(),
           server.threads());

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LOG_INFO("got %s, stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  server.Stop();
  server.Wait();
  return 0;
}

}  // namespace loadd
