// `loadd target`: a small, fast HTTP/1.1 server to point load tests at.
// See target_routes.h for what it answers.
//
//   TargetServer server(options);
//   Status st = server.Start();      // bound and serving when this returns
//   ... connect to server.address().port() ...
//   server.Stop(); server.Wait();    // or just destroy it
//
// Start() runs `threads` loop threads, each with its own SO_REUSEPORT
// listening socket on the same address. Stop() is thread-safe and
// async-signal-safe. Stats() may be called from any thread at any time
// after Start().
#ifndef LOADD_DAEMON_TARGET_TARGET_SERVER_H_
#define LOADD_DAEMON_TARGET_TARGET_SERVER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "daemon/target/target_api.h"
#include "daemon/target/target_listen.h"
#include "daemon/target/target_loop.h"
#include "daemon/target/target_stats.h"

namespace loadd {

struct TargetOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free port
  int threads = 0;                        // loop threads; 0: one per online CPU
  LoopOptions loop;                       // connection cap and per-request limits
};

class TargetServer {
 public:
  explicit TargetServer(TargetOptions options);
  ~TargetServer();  // Stop() and Wait()
  TargetServer(const TargetServer&) = delete;
  TargetServer& operator=(const TargetServer&) = delete;

  // Binds every listener, then starts the loop threads. On error nothing is
  // left running. Call once.
  Status Start();
  // The bound address (real port when 0 was asked). Valid after Start().
  const ListenAddress& address() const { return address_; }
  int threads() const { return static_cast<int>(loops_.size()); }

  // Stops accepting and closes every connection; returns at once. Pending
  // responses are dropped (and not counted).
  void Stop();
  // Joins the loop threads; returns after Stop() has taken effect.
  void Wait();

  // Same numbers as GET /__stats; empty before Start().
  TargetStatsSnapshot Stats() const {
    return stats_ ? stats_->Snapshot() : TargetStatsSnapshot();
  }
  void ResetStats() {
    if (stats_) stats_->Reset();
  }
  // The demo API state shared by every loop (tokens, items, carts); null
  // before Start().
  DemoApi* api() { return api_.get(); }

 private:
  Status OpenLoops(int count);

  TargetOptions options_;
  ListenAddress address_;
  std::unique_ptr<TargetStats> stats_;
  std::unique_ptr<DemoApi> api_;  // token key random per process
  std::vector<std::unique_ptr<TargetLoop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_SERVER_H_
