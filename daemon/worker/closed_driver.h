// ClosedDriver: the closed model. Each owned user i is active exactly while
// the worker owns it and the plan's profile says U(t) > i; an active user
// loops over requests on its own connection with no pause. A user switched
// off mid-request finishes that request, then closes its connection.
#ifndef LOADD_DAEMON_WORKER_CLOSED_DRIVER_H_
#define LOADD_DAEMON_WORKER_CLOSED_DRIVER_H_

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "common/load_profile.h"
#include "common/share.h"
#include "daemon/worker/connection.h"
#include "daemon/worker/driver.h"
#include "daemon/worker/event_loop.h"

namespace loadd {

class Engine;

class ClosedDriver final : public Driver {
 public:
  ClosedDriver(Engine* engine, LoadProfile profile, int64_t users);
  ~ClosedDriver() override;

  void Start(int64_t run_start_ns) override;
  void Apply(const std::vector<ShareChange>& changes, double handover_rate) override;
  void SetProfile(LoadProfile profile) override;
  void OnEnding() override;
  void Abort() override;
  int64_t active() const override { return active_; }
  int64_t in_flight() const override { return busy_; }

 private:
  class UserSlot;
  UserSlot* SlotFor(int64_t index);
  // Creates the slots of owned indices in [from, to) that have none, each
  // with every share change so far applied to it, in order.
  void AddSlots(int64_t from, int64_t to);

  struct Change {
    bool add;
    OwnedClass cls;
  };

  Engine* engine_;
  LoadProfile profile_;
  int64_t users_;                // fleet-wide peak: user indices run 0..users-1
  std::vector<Change> changes_;  // every share change applied, in order
  int64_t run_start_ns_ = 0;
  bool started_ = false;
  bool ending_ = false;
  int64_t active_ = 0;
  int64_t busy_ = 0;
  std::map<int64_t, std::unique_ptr<UserSlot>> slots_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_CLOSED_DRIVER_H_
