// RunStore: where the coordinator keeps its runs so they outlive it
// (docs/operations.md, "State directory").
//
// A stored run has two parts, both written through Put():
//  - its state: one document (plan, run state, totals and histograms so
//    far, the open seconds), replaced whole on every Put;
//  - its seconds: one record per closed second of the timeline (the
//    second's summary and its interval histograms), append-only, so a long
//    run does not rewrite its history every second.
// A Put is all or nothing: when it returns OK it is durable, and a crash
// at any point leaves the previous Put or this one, never a mix.
//
// Bounds: a state over kMaxStateBytes or seconds over kMaxSecondsBytes are
// refused by Put and by Get (a run that big on disk is not loaded).
//
// Run ids are checked (ValidRunId), so a request for "../x" never reaches
// the file system. Implementations are thread-safe.
#ifndef LOADD_DAEMON_COORDINATOR_RUN_STORE_H_
#define LOADD_DAEMON_COORDINATOR_RUN_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"

namespace loadd {

// 1..64 bytes of letters, digits, '-' and '_'.
bool ValidRunId(std::string_view id);

struct StoredRun {
  std::string state;
  std::vector<std::string> seconds;  // in the order appended
};

class RunStore {
 public:
  static constexpr size_t kMaxStateBytes = size_t{64} << 20;
  static constexpr size_t kMaxSecondsBytes = size_t{256} << 20;

  virtual ~RunStore() = default;

  // Appends `seconds` to the run's records, which must hold exactly
  // `first_second` records so far (else FailedPrecondition and nothing
  // changes), and replaces its state. Creates the run on its first Put.
  virtual Status Put(const std::string& id, std::string_view state, size_t first_second,
                     const std::vector<std::string>& seconds) = 0;
  // NotFound for an unknown or invalid id; InvalidArgument naming the file
  // for a damaged run; ResourceExhausted for one over the bounds.
  virtual Result<StoredRun> Get(const std::string& id) = 0;
  // The ids of every stored run, in no particular order.
  virtual Result<std::vector<std::string>> List() = 0;
  virtual Status Remove(const std::string& id) = 0;
  // Where the run is kept, for log lines ("/var/lib/loadd/runs/r17-3").
  virtual std::string Where(const std::string& id) const = 0;
};

// Keeps runs in memory: the coordinator's store when it has no state
// directory (unit tests), and a fake for tests. fail_puts makes every Put
// fail, as a full disk would.
class MemoryRunStore final : public RunStore {
 public:
  Status Put(const std::string& id, std::string_view state, size_t first_second,
             const std::vector<std::string>& seconds) override;
  Result<StoredRun> Get(const std::string& id) override;
  Result<std::vector<std::string>> List() override;
  Status Remove(const std::string& id) override;
  std::string Where(const std::string& id) const override { return "memory:" + id; }

  void set_fail_puts(bool fail) {
    MutexLock lock(&mu_);
    fail_puts_ = fail;
  }
  int puts() {
    MutexLock lock(&mu_);
    return puts_;
  }

 private:
  Mutex mu_;
  std::map<std::string, StoredRun> runs_ GUARDED_BY(mu_);
  bool fail_puts_ GUARDED_BY(mu_) = false;
  int puts_ GUARDED_BY(mu_) = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_RUN_STORE_H_
