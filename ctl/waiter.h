// Waiter: how `loadctl start` passes time between polls and learns that the
// user pressed Ctrl-C. Tests use a fake that advances a FakeClock.
#ifndef LOADD_CTL_WAITER_H_
#define LOADD_CTL_WAITER_H_

#include <cstddef>
#include <cstdint>

namespace loadd {

class Waiter {
 public:
  virtual ~Waiter() = default;
  // Sleeps for duration_ns, or less when an interrupt arrives during the
  // sleep. An interrupt that arrived earlier does not shorten it.
  virtual void SleepNs(int64_t duration_ns) = 0;
  // True once the user asked to stop; stays true.
  virtual bool Interrupted() const = 0;
};

// The real one: nanosleep, cut short by SIGINT or SIGTERM. Arm() installs the
// handlers (without SA_RESTART); the first signal sets Interrupted(), a
// second one restores the default action and re-raises it, so a second
// Ctrl-C ends loadctl at once. One instance per process.
class SignalWaiter final : public Waiter {
 public:
  void Arm();
  void SleepNs(int64_t duration_ns) override;
  bool Interrupted() const override;
};

// Bytes the signal handler writes to fd (with write(2)) before a second
// signal ends the process, e.g. to show a hidden cursor again; fd < 0: none.
// bytes must stay valid until replaced.
void SetBytesBeforeSignalExit(int fd, const char* bytes, size_t size);

}  // namespace loadd

#endif  // LOADD_CTL_WAITER_H_
