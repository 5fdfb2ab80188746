// RunWorker: one worker's part in a run, and its description for JSON
// (common/json_record.h): REST's workers[] and the store's workers[] are
// written, and the store's read back, from RunWorkerFields().
#ifndef LOADD_DAEMON_COORDINATOR_RUN_WORKER_H_
#define LOADD_DAEMON_COORDINATOR_RUN_WORKER_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/json_record.h"
#include "common/wire.h"

namespace loadd {

struct RunWorker {
  std::string worker_id;
  std::string host;
  uint32_t pipe = 0;
  int64_t stripe = 0;
  int64_t users_assigned = 0;
  int64_t users_now = 0;
  int64_t requests = 0;
  double cpu_percent = 0;
  bool final = false;  // sent its last stats
  bool lost = false;
  int64_t lost_at_ms = 0;  // run time it was lost
  int64_t data_rows = -1;  // rows of the plan's data file it got; -1: no file
  // The classes of user or arrival indices it owns now (add == true).
  std::vector<ShareChange> share;
};

// REST fields that depend on the run around the worker (run_view.cc writes
// them): state, lost_at_s (only when lost), final_stats, data_rows (only
// when the plan has a data file).
enum RunWorkerHook { kWorkerState, kWorkerLostAt, kWorkerFinalStats, kWorkerDataRows };

// In REST's order; the store's names where they differ ("users_assigned").
std::span<const JsonField<RunWorker>> RunWorkerFields();

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_RUN_WORKER_H_
