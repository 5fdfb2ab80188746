// When a run is snapshotted for the run store: the persistence schedule of
// Coordinator::DuePuts (coordinator_store.cc), as a pure decision. Times and
// costs are passed in; no clock, no lock, no state of its own.
//
// A run is due:
//  - at once when it ended (its end must outlive a crash) or was never
//    written (a new run is on the store before load begins);
//  - when it changed and interval_ns passed since the last write;
//  - at least once a second even unchanged (the snapshot's time tells a
//    restarted coordinator how far the run had gone).
// Snapshots are built under the coordinator's lock: one that took long
// (hundreds of endpoints) spaces the next ones out, so that they hold the
// lock at most 1/kMaxSnapshotShare of the time. An ended run is written at
// once whatever the spacing.
#ifndef LOADD_DAEMON_COORDINATOR_PERSIST_SCHEDULE_H_
#define LOADD_DAEMON_COORDINATOR_PERSIST_SCHEDULE_H_

#include <cstdint>

namespace loadd {

struct PersistSchedule {
  static constexpr int64_t kMaxSnapshotShare = 20;

  int64_t interval_ns = 100'000'000;  // a changed run is written this often

  // What the schedule knows of one run.
  struct RunTimes {
    bool ever_stored = false;
    int64_t stored_ns = 0;         // the last write, on the coordinator's clock
    int64_t snapshot_cost_ns = 0;  // how long the last snapshot took to build
  };

  // The least time between two snapshots that each take cost_ns.
  static int64_t SpacingNs(int64_t cost_ns) { return kMaxSnapshotShare * cost_ns; }
  bool Due(const RunTimes& run, bool final, bool changed, int64_t now_ns) const;
  // Whether a snapshot that took cost_ns, after one that took last_cost_ns,
  // is the first to push the spacing past a second (worth a warning).
  static bool NewlySlowerThanOncePerSecond(int64_t last_cost_ns, int64_t cost_ns);
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_PERSIST_SCHEDULE_H_
