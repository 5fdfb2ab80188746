#include "daemon/worker/notify_ticker.h"

#include <algorithm>

#include "common/clock.h"

namespace loadd {

NotifyTicker::NotifyTicker(EventLoop* loop, Notifier* notifier,
                           std::function<std::string()> status)
    : loop_(loop), notifier_(notifier), status_(std::move(status)) {
  int64_t watchdog_ns = notifier_->watchdog_interval_ns();
  tick_ns_ = watchdog_ns > 0 ? std::min(watchdog_ns, kMaxTickNs) : kMaxTickNs;
}

NotifyTicker::~NotifyTicker() { loop_->Disarm(&timer_); }

void NotifyTicker::Start(int64_t now_ns) { loop_->Arm(&timer_, now_ns); }

void NotifyTicker::OnTimer() {
  if (notifier_->watchdog_interval_ns() > 0) notifier_->Watchdog();
  if (status_) notifier_->SetStatus(status_());
  loop_->Arm(&timer_, loop_->NowNs() + tick_ns_);
}

}  // namespace loadd
