#include "daemon/notifier.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace loadd {

SystemdNotifier::SystemdNotifier() {
  if (const char* socket = std::getenv("NOTIFY_SOCKET")) socket_ = socket;
  uint64_t usec = 0;
  // > 0 only when $WATCHDOG_USEC is set and $WATCHDOG_PID, if set, is us.
  if (sd_watchdog_enabled(/*unset_environment=*/1, &usec) > 0 && usec > 0) {
    watchdog_interval_ns_ = static_cast<int64_t>(usec) * 1000 / 2;
  }
}

void SystemdNotifier::Send(const std::string& state) {
  if (socket_.empty()) return;
  int r = sd_notify(/*unset_environment=*/0, state.c_str());
  // Said once per kind of failure would be nicer; a failing notify socket
  // is rare (the manager went away) and the daemon goes on regardless.
  if (r < 0) LOG_DEBUG("sd_notify(%s) failed: %s", state.c_str(), std::strerror(-r));
}

void SystemdNotifier::Ready() {
  {
    MutexLock lock(&mu_);
    if (ready_sent_) return;
    ready_sent_ = true;
  }
  Send("READY=1");
}

void SystemdNotifier::SetStatus(const std::string& status) {
  std::string line = status;
  std::replace(line.begin(), line.end(), '\n', ' ');
  {
    MutexLock lock(&mu_);
    if (line == last_status_) return;
    last_status_ = line;
  }
  Send("STATUS=" + line);
}

void SystemdNotifier::Watchdog() { Send("WATCHDOG=1"); }

void SystemdNotifier::Stopping() { Send("STOPPING=1"); }

}  // namespace loadd
