// AuditLog: who did what to the fleet, when and from where — an
// append-only file in the state directory (audit.log, docs/operations.md).
//
// One JSON object a line:
//   {"time":"2026-12-07T13:11:27.123Z","token":"ci-web","address":"10.0.0.7",
//    "action":"stop","run":"r-...","outcome":"refused","code":403,
//    "reason":"run r-... was started by token \"ci-api\"; ..."}
// token is "-" when no known token was sent; run is "" when none applies;
// outcome is "ok" or "refused" (then code is the HTTP status and reason
// the error message). Actions: start, stop, cancel (a stop of a run that
// had not started), read (only refused reads are logged), request (no
// route), scale (PATCH /v1/runs/{id}: "from" and "to" carry the levels,
// "users 100" -> "users 300", or "rate 600" alone for a refused attempt).
//
// Bounds: the file is opened O_APPEND, mode 0600. When a line would take
// it past max_bytes it is renamed to audit.log.1 (replacing the one
// before) and a new file is begun, so the log takes at most twice
// max_bytes. Refused attempts are rate-limited (a token bucket: a burst of
// kRefusalBurst, then kRefusalsPerSec), so a flood of bad tokens cannot
// fill the disk; how many were left out is written with the next refusal
// logged ("action":"suppressed","count":N). Successful actions are always
// written. Thread-safe; a line is one write(2) under the log's own lock
// (a local append; no other lock is ever held while writing).
#ifndef LOADD_DAEMON_COORDINATOR_AUDIT_LOG_H_
#define LOADD_DAEMON_COORDINATOR_AUDIT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"

namespace loadd {

struct AuditEntry {
  std::string token = "-";  // the token's name, "-" when none was recognised
  std::string address;
  std::string action;
  std::string run_id;
  bool ok = true;
  int code = 0;  // the HTTP status of a refusal
  std::string reason;
  int64_t count = 0;  // "suppressed" lines: how many refusals were left out
  std::string from;   // scale: the level before ("" : not written)
  std::string to;     // scale: the level asked for ("" : not written)
};

inline constexpr char kAuditFileName[] = "audit.log";

class AuditLog {
 public:
  static constexpr size_t kDefaultMaxBytes = size_t{32} << 20;
  static constexpr int64_t kRefusalBurst = 100;
  static constexpr int64_t kRefusalsPerSec = 10;
  static constexpr size_t kMaxReasonBytes = 500;

  // Opens (creates, 0600) `dir`/audit.log. wall_now_ns: ns since the Unix
  // epoch for the "time" field (empty: the real clock); clock paces the
  // refusal limit. Errors name --state-dir.
  static Result<std::unique_ptr<AuditLog>> Open(
      const std::string& dir, const Clock* clock,
      std::function<int64_t()> wall_now_ns = nullptr,
      size_t max_bytes = kDefaultMaxBytes);
  ~AuditLog();

  // Writes one line (a refusal may be left out, see above). A failed write
  // is logged (at most once a minute) and never stops the request.
  void Record(const AuditEntry& entry);

  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, int fd, size_t size, const Clock* clock,
           std::function<int64_t()> wall_now_ns, size_t max_bytes);
  bool AdmitRefusal() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Write(const std::string& line) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Line(const AuditEntry& entry) const;

  const std::string path_;
  const Clock* clock_;
  const std::function<int64_t()> wall_now_ns_;
  const size_t max_bytes_;
  Mutex mu_;
  int fd_ GUARDED_BY(mu_);
  size_t size_ GUARDED_BY(mu_);
  double tokens_ GUARDED_BY(mu_) = kRefusalBurst;  // the refusal bucket
  int64_t refilled_ns_ GUARDED_BY(mu_) = 0;
  int64_t suppressed_ GUARDED_BY(mu_) = 0;
  int64_t failure_logged_ns_ GUARDED_BY(mu_) = -1;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_AUDIT_LOG_H_
