// OpenDriver: the open model. Fleet-wide arrival m happens at the run time
// the plan's profile gives (LoadProfile::ArrivalTime); this worker starts
// the arrivals of its share, each on an idle connection from its pool, and
// records latency from the arrival's intended time, so a stalled target
// shows in the percentiles (coordinated omission corrected). When
// max_in_flight (this worker's part of it) is reached, the arrival is
// skipped and counted as dropped, never silently lost.
#ifndef LOADD_DAEMON_WORKER_OPEN_DRIVER_H_
#define LOADD_DAEMON_WORKER_OPEN_DRIVER_H_

#include <map>
#include <memory>
#include <vector>

#include "common/load_profile.h"
#include "common/share.h"
#include "daemon/worker/connection.h"
#include "daemon/worker/driver.h"
#include "daemon/worker/event_loop.h"
#include "daemon/worker/scenario_runner.h"

namespace loadd {

class Engine;

class OpenDriver final : public Driver, public TimerHandler, public ExchangeOwner {
 public:
  OpenDriver(Engine* engine, LoadProfile profile, int64_t max_in_flight);
  ~OpenDriver() override;

  void Start(int64_t run_start_ns) override;
  void Apply(const std::vector<ShareChange>& changes, double handover_rate) override;
  void SetProfile(LoadProfile profile) override;
  void OnEnding() override;
  void Abort() override;
  int64_t active() const override { return busy_; }
  int64_t in_flight() const override { return busy_; }

  void OnTimer() override;
  void OnExchangeDone(Connection* conn, const ExchangeResult& result) override;

 private:
  // Arrivals m with m % modulus == residue at run times >= from_ns, except
  // those given away since (exclusions).
  struct Grant {
    OwnedClass cls;
    std::vector<OwnedClass> given_away;
    int64_t next_m = 0;
    size_t segment = 0;
    int64_t next_ns = -1;  // run time of next_m, -1 when none is left
  };
  void Advance(Grant* g);
  bool GivenAway(const Grant& g, int64_t m, int64_t t_ns) const;
  void Dispatch(int64_t m, int64_t t_ns);
  void Rearm();
  void UpdateCap();

  Engine* engine_;
  LoadProfile profile_;
  int64_t max_in_flight_;  // fleet-wide
  int64_t cap_ = 1;        // this worker's part
  int64_t run_start_ns_ = 0;
  bool started_ = false;
  bool ending_ = false;
  int64_t busy_ = 0;
  std::vector<Grant> grants_;
  std::vector<std::unique_ptr<Connection>> conns_;
  // Scenario plans: the iteration each busy connection is running.
  std::map<Connection*, std::unique_ptr<ScenarioRunner>> runners_;
  std::vector<Connection*> idle_;
  Timer timer_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_OPEN_DRIVER_H_
