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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "daemon/coordinator/tokens.h"

namespace loadd {

inline constexpr char kDefaultTokenFile[] = "/etc/loadd/token";
inline constexpr size_t kMinTokenBytes = 16;
inline constexpr size_t kMaxTokenBytes = 4096;

// How ReadPrivateFile refuses a file, in words: `what` ("the REST token
// file"), how to make a good one, its size limit and what to add to the
// message when it is over it.
struct PrivateFileRules {
  std::string what;
  std::string how_to_create;
  size_t max_bytes = 0;
  std::string too_large_hint;
};

// The content of a secret file the coordinator's user alone may read.
// Refuses (kFailedPrecondition, path = `flag`) a file that is missing, not
// a regular file, readable or writable by group or others (the message says
// `chmod 600 PATH`) or larger than rules.max_bytes.
Result<std::string> ReadPrivateFile(const std::string& path, const std::string& flag,
                                    const PrivateFileRules& rules);

// Reads the REST token from `path`: the file's content with surrounding
// whitespace trimmed. Refuses (kFailedPrecondition, path = `flag`) a file
// that is missing, not a regular file, readable or writable by group or
// others (the message says `chmod 600 PATH`), larger than kMaxTokenBytes,
// or whose token is shorter than kMinTokenBytes or has characters outside
// printable ASCII. Every message says how to fix it; none quotes the token.
Result<std::string> ReadTokenFile(const std::string& path, const std::string& flag);

// Checks Authorization headers against the named tokens (tokens.h).
// Thread-safe: SetToken or SetTokens (a SIGHUP reload) may run while REST
// threads call Check and Identify.
class BearerAuth {
 public:
  // One admin token named kTokenFileName (the --token-file alone).
  void SetToken(std::string_view token);
  // Every token with its name, role and caps; replaces the ones before.
  void SetTokens(std::vector<NamedToken> tokens);
  // Who sent `authorization`, "Bearer TOKEN" (scheme case-insensitive),
  // or nullopt for no known token. The presented token's SHA-256 is
  // compared with every token's (CRYPTO_memcmp, no early exit), so timing
  // tells neither which token matched nor how much of one.
  std::optional<TokenIdentity> Identify(std::string_view authorization) const;
  bool Check(std::string_view authorization) const {
    return Identify(authorization).has_value();
  }

 private:
  mutable Mutex mu_;
  std::vector<NamedToken> tokens_ GUARDED_BY(mu_);
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
