// EventLoop: one epoll loop with timers; the whole load engine of a worker
// runs on it, on one thread.
//
// Not thread-safe, except Wakeup()/Stop() which may be called from any
// thread. Handlers and timers must outlive their registration.
//
// Time: every deadline is on the loop's Clock, and code on the loop reads the
// time with NowNs(), never the system clock, so tests can run the loop on a
// FakeClock: they move the clock and call RunOnce(0) to serve what is due.
#ifndef LOADD_DAEMON_WORKER_EVENT_LOOP_H_
#define LOADD_DAEMON_WORKER_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace loadd {

class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // events: the EPOLL* bits that fired.
  virtual void OnIo(uint32_t events) = 0;
};

class TimerHandler {
 public:
  virtual ~TimerHandler() = default;
  virtual void OnTimer() = 0;
};

// A re-armable one-shot timer, owned by its user. Re-arming to a later
// deadline costs O(1): the heap keeps the old entry and re-queues it when it
// comes due, so a per-request timeout adds no heap work per request.
//
// Due timers run in deadline order, at most kMaxTimersPerBatch per loop
// iteration, with I/O in between, so a storm (20,000 users starting at
// once) is spread over many iterations. Urgent timers (the worker's
// heartbeat, stats and watchdog pings: a handful) are not in that queue:
// every due one runs at the start of each iteration, so a storm delays them
// by one batch at most, and a loop that hangs still misses them.
struct Timer {
  explicit Timer(TimerHandler* h, const void* g = nullptr, bool u = false)
      : handler(h), group(g), urgent(u) {}
  TimerHandler* handler;
  const void* group;  // owner tag for ForgetGroup()
  const bool urgent;
  int64_t deadline_ns = 0;
  bool armed = false;
  bool queued = false;
  uint64_t queued_seq = 0;  // the heap entry that currently speaks for this timer
  int64_t queued_key = 0;
};

class EventLoop {
 public:
  // Ordinary timers run per loop iteration, at most (see Timer).
  static constexpr int kMaxTimersPerBatch = 256;

  // clock: not owned, must outlive the loop; the real clock by default.
  explicit EventLoop(const Clock* clock = RealClock::Get());
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Status Init();

  Status Add(int fd, uint32_t events, IoHandler* handler);
  Status Modify(int fd, uint32_t events, IoHandler* handler);
  void Remove(int fd);

  void Arm(Timer* timer, int64_t deadline_ns);
  void Disarm(Timer* timer) { timer->armed = false; }
  // Forgets every timer of a group: call before destroying their owner.
  void ForgetGroup(const void* group);

  // Runs fn on the loop after the current batch of events: for work that
  // must not run inside a handler (e.g. destroying the handler's owner).
  void Defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

  // The loop's clock reading: monotonic ns (see common/clock.h).
  int64_t NowNs() const { return clock_->NowNs(); }
  const Clock* clock() const { return clock_; }

  // Runs until Stop(). Stop() and Wakeup() are safe from any thread.
  void Run();
  // One iteration: the due timers, then I/O that is ready within
  // max_wait_ns (0: only what is ready now; capped at the next deadline),
  // then deferred work. For tests on a FakeClock. Returns the number of I/O
  // events served, -1 when the wait failed.
  int RunOnce(int64_t max_wait_ns);
  // The earliest timer deadline, INT64_MAX for none (stale entries may make
  // it early, never late).
  int64_t NextDeadlineNs() const;
  void Stop();
  void Wakeup();
  bool stopped() const { return stop_.load(); }

 private:
  struct Entry {
    int64_t key;
    uint64_t seq;
    Timer* timer;
  };
  struct EntryLater {
    bool operator()(const Entry& a, const Entry& b) const { return a.key > b.key; }
  };
  void Push(Timer* timer, int64_t key);
  void RunDueTimers(int64_t now_ns);
  // Runs up to `budget` due timers of one heap; false when due ones are left.
  bool RunDue(std::vector<Entry>* heap, int64_t now_ns, int budget);
  void CompactIfStale();
  int64_t NextTimeoutNs(int64_t now_ns) const;

  const Clock* clock_;
  bool pwait2_ = true;  // epoll_pwait2 works here (see RunOnce)
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::vector<Entry> heap_;         // min-heap on key
  std::vector<Entry> urgent_heap_;  // the same, for urgent timers
  bool timers_left_ = false;        // the last batch left due timers behind
  uint64_t next_seq_ = 1;
  size_t superseded_ = 0;  // heap entries that no longer speak for their timer
  std::vector<std::function<void()>> deferred_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_EVENT_LOOP_H_
