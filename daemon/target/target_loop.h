// One event loop thread of `loadd target`. It owns one listening socket
// (SO_REUSEPORT: the kernel spreads connections over the loops) and every
// connection it accepts; nothing is shared with other loops except the
// stats. Sockets are non-blocking and edge-triggered; delayed responses wait
// in a min-heap of deadlines, and the loop sleeps in epoll_pwait2 with a
// nanosecond timeout taken from the earliest one.
#ifndef LOADD_DAEMON_TARGET_TARGET_LOOP_H_
#define LOADD_DAEMON_TARGET_TARGET_LOOP_H_

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <queue>
#include <utility>
#include <vector>

#include "common/status.h"
#include "daemon/target/target_session.h"
#include "daemon/target/target_stats.h"

namespace loadd {

struct LoopOptions {
  int64_t max_connections = 100000;  // open connections over all loops; more are closed
  SessionLimits session;
};

class TargetLoop {
 public:
  // Takes ownership of `listen_fd` (non-blocking, listening). `stats`,
  // `shard` and `api` (shared by every loop) must outlive the loop.
  TargetLoop(int listen_fd, const LoopOptions& options, TargetStats* stats,
             TargetStats::Shard* shard, DemoApi* api);
  ~TargetLoop();  // closes the listener and every connection
  TargetLoop(const TargetLoop&) = delete;
  TargetLoop& operator=(const TargetLoop&) = delete;

  // Creates the epoll set; call once before Run().
  Status Init();
  // Serves until Stop(); then closes every connection and the listener.
  // A peer that sends EOF still gets the responses due at once (it may have
  // only half-closed); responses still waiting on a delay are dropped.
  void Run();
  // Any thread, async-signal-safe: Run() returns soon after.
  void Stop();

 private:
  struct Conn;
  struct Timer {
    int64_t due_ns;
    uint64_t conn_id;
    int fd;
    bool operator>(const Timer& other) const { return due_ns > other.due_ns; }
  };

  timespec* WaitTimeout(int64_t now_ns, timespec* ts) const;
  int Wait(epoll_event* events, int max_events, timespec* timeout);
  void Dispatch(const epoll_event& event);
  void AcceptSome();
  void AddConn(int fd);
  void Service(Conn* conn);
  bool ReadInput(Conn* conn);
  bool WriteOutput(Conn* conn, int64_t now_ns);
  void Settle(Conn* conn, int64_t now_ns);
  void BeginLinger(Conn* conn, int64_t now_ns);
  void Drain(Conn* conn, int64_t now_ns);
  void ArmTimer(Conn* conn, int64_t due_ns);
  void Defer(Conn* conn);
  void RunTimers(int64_t now_ns);
  void RunDeferred();
  Conn* Lookup(int fd, uint64_t id) const;
  void CloseConn(Conn* conn);
  void CloseAll();

  int listen_fd_;  // -1 once Run() has returned
  const LoopOptions options_;
  TargetStats* stats_;
  TargetStats::Shard* shard_;
  DemoApi* api_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd written by Stop()
  std::atomic<bool> stop_{false};
  bool use_pwait2_ = true;       // false after epoll_pwait2 failed with ENOSYS/EPERM
  bool accept_pending_ = false;  // the listener may hold connections not accepted yet
  int64_t accept_retry_ns_ = 0;  // after EMFILE: do not accept before this
  uint64_t next_conn_id_ = 1;
  int64_t last_reject_log_ns_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;  // indexed by fd
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::vector<std::pair<int, uint64_t>> deferred_;  // (fd, id) to service again now
  std::unique_ptr<char[]> read_buf_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_LOOP_H_
