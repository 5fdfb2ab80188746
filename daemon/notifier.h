// Notifier: tells the service manager how a daemon is doing, the sd_notify(3)
// way: READY=1 once it serves, STATUS=<one line> for `systemctl status`,
// WATCHDOG=1 to prove it is alive, STOPPING=1 on the way out.
//
// SystemdNotifier sends through libsystemd to $NOTIFY_SOCKET and does
// nothing when that is unset (a daemon started by hand). Tests point
// $NOTIFY_SOCKET at a datagram socket they read.
#ifndef LOADD_DAEMON_NOTIFIER_H_
#define LOADD_DAEMON_NOTIFIER_H_

#include <cstdint>
#include <string>

#include "common/mutex.h"

namespace loadd {

class Notifier {
 public:
  virtual ~Notifier() = default;
  // The daemon does its job (a worker: registered with the coordinator).
  // Idempotent: only the first call after construction is sent.
  virtual void Ready() = 0;
  // One line of text (newlines become spaces); sent only when it changes.
  virtual void SetStatus(const std::string& status) = 0;
  virtual void Watchdog() = 0;
  virtual void Stopping() = 0;
  // How often Watchdog() must be called: half of the manager's watchdog
  // timeout, 0 when none is asked for.
  virtual int64_t watchdog_interval_ns() const = 0;
};

// Thread-safe: the coordinator calls it from its main and ticker threads.
class SystemdNotifier final : public Notifier {
 public:
  // Reads $WATCHDOG_USEC and $WATCHDOG_PID once (and unsets them: the
  // watchdog is this process's alone). $NOTIFY_SOCKET stays set, as
  // sd_notify reads it on every call.
  SystemdNotifier();

  // $NOTIFY_SOCKET was set: a manager listens.
  bool enabled() const { return !socket_.empty(); }

  void Ready() override;
  void SetStatus(const std::string& status) override;
  void Watchdog() override;
  void Stopping() override;
  int64_t watchdog_interval_ns() const override { return watchdog_interval_ns_; }

 private:
  void Send(const std::string& state);

  std::string socket_;  // $NOTIFY_SOCKET, empty when unset
  int64_t watchdog_interval_ns_ = 0;
  Mutex mu_;
  bool ready_sent_ GUARDED_BY(mu_) = false;
  std::string last_status_ GUARDED_BY(mu_);
};

}  // namespace loadd

#endif  // LOADD_DAEMON_NOTIFIER_H_
