// Bearer-token authentication of the coordinator's REST API.
//
// The token lives in a file only the coordinator's user can read
// (--token-file, default /etc/loadd/token). Requests carry it as
// "Authorization: Bearer TOKEN"; BearerAuth compares SHA-256 digests of the
// expected and the presented token with CRYPTO_memcmp, so neither the
// token's content nor its length leaks through timing.
#ifndef LOADD_DAEMON_COORDINATOR_AUTH_H_
#define LOADD_DAEMON_COORDINATOR_AUTH_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"

namespace loadd {

inline constexpr char kDefaultTokenFile[] = "/etc/loadd/token";
inline constexpr size_t kMinTokenBytes = 16;
inline constexpr size_t kMaxTokenBytes = 4096;

// Reads the REST token from `path`: the file's content with surrounding
// whitespace trimmed. Refuses (kFailedPrecondition, path = `flag`) a file
// that is missing, not a regular file, readable or writable by group or
// others (the message says `chmod 600 PATH`), larger than kMaxTokenBytes,
// or whose token is shorter than kMinTokenBytes or has characters outside
// printable ASCII. Every message says how to fix it; none quotes the token.
Result<std::string> ReadTokenFile(const std::string& path, const std::string& flag);

// Checks Authorization headers against one token. Thread-safe: SetToken
// (a SIGHUP reload) may run while REST threads call Check.
class BearerAuth {
 public:
  void SetToken(std::string_view token);
  // True when `authorization` is "Bearer TOKEN" (scheme case-insensitive)
  // with the expected token. False when no token was set.
  bool Check(std::string_view authorization) const;

 private:
  using Digest = std::array<unsigned char, 32>;  // SHA-256
  static Digest Sha256(std::string_view text);

  mutable Mutex mu_;
  Digest digest_ GUARDED_BY(mu_){};
  bool set_ GUARDED_BY(mu_) = false;
};

// Rate-limits a log line about repeated events (refused requests): at most
// one line per interval. Thread-safe.
class LogThrottle {
 public:
  LogThrottle(const Clock* clock, int64_t interval_ns)
      : clock_(clock), interval_ns_(interval_ns) {}

  // Counts one event. Returns how many events the caller should report now
  // (this one plus those suppressed since the last report), or 0 to stay
  // quiet.
  int64_t Admit();

 private:
  const Clock* clock_;
  const int64_t interval_ns_;
  Mutex mu_;
  bool logged_ GUARDED_BY(mu_) = false;
  int64_t last_log_ns_ GUARDED_BY(mu_) = 0;
  int64_t suppressed_ GUARDED_BY(mu_) = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_AUTH_H_
