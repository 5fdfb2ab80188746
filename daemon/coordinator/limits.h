// Operator limits: what a run may do on this coordinator's fleet.
//
// Every target host of a plan must match the allow list (--allow-host), and
// each run is capped in users, arrival rate, duration, data file and plan
// size. A refused plan gets kPermissionDenied (HTTP 403) naming the JSON
// path at fault, the limit, its value and how to change it. Hosts are
// matched as written in the plan: the coordinator resolves no names, so an
// allowed name is trusted to resolve to an address its operator meant.
#ifndef LOADD_DAEMON_COORDINATOR_LIMITS_H_
#define LOADD_DAEMON_COORDINATOR_LIMITS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/plan.h"
#include "common/status.h"

namespace loadd {

// --allow-host entries: exact host names ("api.test"), suffix patterns
// ("*.example.com": any name ending in ".example.com", not example.com
// itself), IP literals ("10.1.2.3", "::1") and CIDR ranges ("10.0.0.0/8",
// "fd00::/8"). Names compare case-insensitively, a trailing dot ignored.
// IPv4-mapped IPv6 addresses (::ffff:10.1.2.3) match as IPv4.
class HostAllowList {
 public:
  // The default: loopback only (127.0.0.0/8, ::1, localhost).
  HostAllowList();
  static std::vector<std::string> DefaultEntries();
  // Errors name `flag` and quote the bad entry.
  static Result<HostAllowList> Parse(const std::vector<std::string>& entries,
                                     const std::string& flag = "--allow-host");

  bool Allows(std::string_view host) const;
  // As given, for messages and logs.
  const std::vector<std::string>& entries() const { return entries_; }

 private:
  struct Empty {};
  explicit HostAllowList(Empty) {}
  Status Add(const std::string& entry, const std::string& flag);

  struct Net {
    bool v6 = false;
    std::array<unsigned char, 16> addr{};  // v4 in the first 4 bytes
    int prefix_bits = 0;
  };
  std::vector<std::string> entries_;
  std::vector<std::string> names_;     // lower case, no trailing dot
  std::vector<std::string> suffixes_;  // ".example.com"
  std::vector<Net> nets_;
};

struct RunLimits {
  int64_t max_users = 100'000;  // closed: users; open: max_in_flight
  double max_rate = 100'000;    // open model: arrivals per second
  int64_t max_duration_ns = int64_t{24} * 3600 * 1'000'000'000;
  size_t max_data_bytes = size_t{8} << 20;  // $.data.content, decoded
  size_t max_plan_bytes = size_t{1} << 20;  // the body apart from the data content
  // Plan bodies received or being parsed at once, all clients together
  // (body_budget.h); at least MaxBodyBytes().
  size_t max_parsing_bytes = size_t{24} << 20;
  HostAllowList hosts;

  // The largest POST /v1/runs body: max_plan_bytes + max_data_bytes.
  size_t MaxBodyBytes() const { return max_plan_bytes + max_data_bytes; }
};

// Checks a parsed plan against the limits; body_bytes is the size of the
// JSON it was parsed from. kPermissionDenied with path and message on the
// first limit exceeded.
Status CheckRunLimits(const Plan& plan, size_t body_bytes, const RunLimits& limits);

// The current limits, swapped whole on a reload. Thread-safe.
class LiveLimits {
 public:
  explicit LiveLimits(RunLimits limits)
      : limits_(std::make_shared<const RunLimits>(std::move(limits))) {}
  std::shared_ptr<const RunLimits> Get() const {
    MutexLock lock(&mu_);
    return limits_;
  }
  void Set(RunLimits limits) {
    auto next = std::make_shared<const RunLimits>(std::move(limits));
    MutexLock lock(&mu_);
    limits_.swap(next);
  }

 private:
  mutable Mutex mu_;
  std::shared_ptr<const RunLimits> limits_ GUARDED_BY(mu_);
};

// "8 MiB", "1.5 MiB", "300 bytes": sizes in messages.
std::string FormatBytes(size_t bytes);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_LIMITS_H_
