// Clock: the only way loadd code reads time, so tests can drive it.
//
// NowNs() is monotonic nanoseconds from an arbitrary origin; it never goes
// backwards and is unrelated to wall time. Implementations are thread-safe.
#ifndef LOADD_COMMON_CLOCK_H_
#define LOADD_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <ctime>

namespace loadd {

constexpr int64_t kNsPerUs = 1000;
constexpr int64_t kNsPerMs = 1000 * 1000;
constexpr int64_t kNsPerSec = 1000 * 1000 * 1000;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNs() const = 0;
};

// CLOCK_MONOTONIC; cheap (vDSO), safe on the request hot path.
inline int64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * kNsPerSec + ts.tv_nsec;
}

class RealClock final : public Clock {
 public:
  int64_t NowNs() const override { return MonotonicNowNs(); }
  static RealClock* Get() {
    static RealClock clock;
    return &clock;
  }
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ns = 0) : now_ns_(start_ns) {}
  int64_t NowNs() const override { return now_ns_.load(); }
  void AdvanceNs(int64_t delta_ns) { now_ns_ += delta_ns; }
  void SetNs(int64_t now_ns) { now_ns_ = now_ns; }

 private:
  std::atomic<int64_t> now_ns_;
};

}  // namespace loadd

#endif  // LOADD_COMMON_CLOCK_H_
