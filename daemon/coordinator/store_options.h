// The run store's settings on `loadd coordinator` (--state-dir,
// --retention-runs, --retention-days) and the thread that writes runs.
#ifndef LOADD_DAEMON_COORDINATOR_STORE_OPTIONS_H_
#define LOADD_DAEMON_COORDINATOR_STORE_OPTIONS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/run_store.h"

namespace CLI {
class App;
}

namespace loadd {

struct StoreOptions {
  std::string state_dir = "/var/lib/loadd";
  int64_t retention_runs = 1000;
  int64_t retention_days = 30;
};

// Adds the flags (environment: LOADD_STATE_DIR for --state-dir).
void AddStoreFlags(CLI::App* app, StoreOptions* options);
void ApplyStoreOptions(const StoreOptions& options, CoordinatorConfig* config);
// Opens the state directory; errors name --state-dir.
Result<std::unique_ptr<RunStore>> OpenRunStore(const StoreOptions& options);

// Calls coordinator->Persist() every 50 ms on its own thread, at once when
// a run was created or ended (Coordinator::WaitPersistDue), and once more
// when destroyed. The coordinator must outlive it.
class Persister {
 public:
  explicit Persister(Coordinator* coordinator);
  ~Persister();
  Persister(const Persister&) = delete;
  Persister& operator=(const Persister&) = delete;

 private:
  Coordinator* coordinator_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_STORE_OPTIONS_H_
