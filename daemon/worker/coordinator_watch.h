// CoordinatorWatch: the worker's view of its link to the coordinator, as
// plain arithmetic on times it is given (no clock of its own, so tests use
// made-up times).
//
// The coordinator declares a worker lost after heartbeat_timeout_ms of
// silence and deals its share out to the others. A worker that has heard
// nothing for that long (or for its own --coordinator-grace, if shorter)
// must therefore stop its load: the rest of the fleet is about to carry it.
// It is then "adrift": it re-registers, and runs nothing until the
// coordinator assigns it something again.
//
// The silence is checked both on the worker's own timer (Check) and when a
// message finally arrives (Heard): a worker that was frozen (SIGSTOP) or cut
// off finds its silence on waking even if the queued pings are read before
// its timer runs.
#ifndef LOADD_DAEMON_WORKER_COORDINATOR_WATCH_H_
#define LOADD_DAEMON_WORKER_COORDINATOR_WATCH_H_

#include <cstdint>

namespace loadd {

class CoordinatorWatch {
 public:
  // grace_ms: --coordinator-grace, the longest the worker keeps its load
  // without word from the coordinator.
  explicit CoordinatorWatch(int64_t grace_ms) : grace_ms_(grace_ms) {}

  // The coordinator's welcome: heartbeat interval and its timeout (0: not
  // given, an older coordinator).
  void OnWelcome(int64_t heartbeat_ms, int64_t heartbeat_timeout_ms);

  // Starts the clock (worker start) without counting it as word from the
  // coordinator's side of a run.
  void Reset(int64_t now_ns) { last_heard_ns_ = now_ns; }

  // A message from the coordinator arrived at now_ns. True when the silence
  // before it was past the limit and the worker was not yet adrift: the
  // caller stops its load and re-registers, as Check() would have had it.
  bool Heard(int64_t now_ns);
  // The worker's timer. True once per silence, when it passes the limit.
  bool Check(int64_t now_ns);

  // Silence, in ms, after which load stops: min(grace, coordinator timeout).
  int64_t limit_ms() const;
  int64_t silence_ms(int64_t now_ns) const {
    return (now_ns - last_heard_ns_) / 1'000'000;
  }
  // How often to send heartbeats, ns.
  int64_t heartbeat_interval_ns() const { return heartbeat_ms_ * 1'000'000; }
  bool adrift() const { return adrift_; }

 private:
  bool Silent(int64_t now_ns) const { return silence_ms(now_ns) > limit_ms(); }

  int64_t grace_ms_;
  int64_t heartbeat_ms_ = 1000;
  int64_t heartbeat_timeout_ms_ = 0;
  int64_t last_heard_ns_ = 0;
  bool adrift_ = false;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_COORDINATOR_WATCH_H_
