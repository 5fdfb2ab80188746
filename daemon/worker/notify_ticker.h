// NotifyTicker: a timer on the worker's event loop that keeps the service
// manager informed: WATCHDOG=1 at half the watchdog timeout, and STATUS=
// whenever the status line changes (checked at least every second).
// Because the pings come from the loop itself, a loop that hangs stops
// them and systemd kills and restarts the worker (WatchdogSec=).
//
// Not thread-safe: lives on the loop's thread, like every loop handler.
#ifndef LOADD_DAEMON_WORKER_NOTIFY_TICKER_H_
#define LOADD_DAEMON_WORKER_NOTIFY_TICKER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "daemon/notifier.h"
#include "daemon/worker/event_loop.h"

namespace loadd {

class NotifyTicker final : public TimerHandler {
 public:
  // status: the current status line, asked on every tick. notifier and
  // loop are not owned and must outlive this.
  NotifyTicker(EventLoop* loop, Notifier* notifier, std::function<std::string()> status);
  ~NotifyTicker() override;

  // The first tick runs at once.
  void Start(int64_t now_ns);
  void OnTimer() override;

  // Time between ticks: half the watchdog timeout, at most kMaxTickNs.
  int64_t tick_ns() const { return tick_ns_; }
  // Deadline of the next tick (for tests).
  int64_t next_tick_ns() const { return timer_.deadline_ns; }

  static constexpr int64_t kMaxTickNs = 1'000'000'000;

 private:
  EventLoop* loop_;
  Notifier* notifier_;
  std::function<std::string()> status_;
  Timer timer_{this, nullptr, /*urgent=*/true};  // pinged between batches of a storm
  int64_t tick_ns_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_NOTIFY_TICKER_H_
