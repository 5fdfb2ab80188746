#include "daemon/coordinator/store_options.h"

#include <CLI/CLI.hpp>

#include "daemon/coordinator/file_run_store.h"

namespace loadd {

void AddStoreFlags(CLI::App* app, StoreOptions* options) {
  app->add_option("--state-dir", options->state_dir,
                  "directory for stored runs (created, mode 0700); one coordinator each")
      ->envname("LOADD_STATE_DIR")
      ->capture_default_str();
  app->add_option("--retention-runs", options->retention_runs,
                  "ended runs kept: the newest N")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  app->add_option("--retention-days", options->retention_days,
                  "ended runs older than this many days are deleted")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{36'500}));
}

void ApplyStoreOptions(const StoreOptions& options, CoordinatorConfig* config) {
  config->retention_runs = options.retention_runs;
  config->retention_days = options.retention_days;
}

Result<std::unique_ptr<RunStore>> OpenRunStore(const StoreOptions& options) {
  Result<std::unique_ptr<FileRunStore>> store = FileRunStore::Open(options.state_dir);
  if (!store.ok()) return store.status();
  return std::unique_ptr<RunStore>(std::move(*store));
}

Persister::Persister(Coordinator* coordinator) : coordinator_(coordinator) {
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      coordinator_->Persist();
      coordinator_->WaitPersistDue(50);  // a run created or ended: at once
    }
  });
}

Persister::~Persister() {
  stop_ = true;
  thread_.join();
  coordinator_->Persist();
}

}  // namespace loadd
