// Named REST tokens: the tokens file (--tokens-file), roles and per-token
// caps (docs/operations.md, "Named tokens").
//
// The file holds one token a line, never a secret, only its SHA-256:
//
//   # NAME      ROLE    SHA-256 OF THE SECRET        CAPS (optional)
//   ci-web      runner  sha256:9f86d081884c7d65...   max-users=500 max-runs=1
//   dashboard   viewer  sha256:60303ae22b998861...
//
// Blank lines and lines starting with '#' are ignored. NAME is 1 to 64 of
// [A-Za-z0-9._-], unique in the file; ROLE is admin, runner or viewer; the
// hash is "sha256:" and 64 hex digits, unique too. Caps: max-users=N
// (users, or iterations in flight for an open-model plan), max-rate=N
// (arrivals per second), max-runs=N (runs of this token active at once;
// queued ones will count too once there is a queue). Counts take k/M
// suffixes ("10k"). Every error names the file and line.
//
// Roles: admin may do everything; runner may start runs, and stop (later
// scale) the runs it started, and read everything; viewer may only read.
#ifndef LOADD_DAEMON_COORDINATOR_TOKENS_H_
#define LOADD_DAEMON_COORDINATOR_TOKENS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/plan.h"
#include "common/status.h"

namespace loadd {

inline constexpr char kDefaultTokensFile[] = "/etc/loadd/tokens";
inline constexpr size_t kMaxTokensFileBytes = size_t{1} << 20;
inline constexpr size_t kMaxTokenNameBytes = 64;
// The name the single --token-file token goes by (an admin).
inline constexpr char kTokenFileName[] = "token-file";

// Ordered: each role may do what the ones before it may.
enum class Role { kViewer = 0, kRunner = 1, kAdmin = 2 };
const char* RoleName(Role role);
std::optional<Role> RoleFromName(std::string_view name);

// A token's own caps, on top of the operator's limits; 0: none.
struct TokenCaps {
  int64_t max_users = 0;
  int64_t max_rate = 0;  // arrivals per second
  int64_t max_runs = 0;  // active or queued at once
  bool operator==(const TokenCaps&) const = default;
};

using TokenDigest = std::array<unsigned char, 32>;  // SHA-256
TokenDigest Sha256Of(std::string_view text);

struct NamedToken {
  std::string name;
  Role role = Role::kViewer;
  TokenDigest digest{};
  TokenCaps caps;
  bool operator==(const NamedToken&) const = default;
};

// Who a request's token belongs to.
struct TokenIdentity {
  std::string name;
  Role role = Role::kViewer;
  TokenCaps caps;
};

// Parses a tokens file's text; errors say "PATH:LINE: ..." (path = flag).
Result<std::vector<NamedToken>> ParseTokens(std::string_view text,
                                            const std::string& path,
                                            const std::string& flag = "--tokens-file");
// Reads and parses the file, refused like the token file (auth.h) when
// others may read it, it is not a regular file or too large.
Result<std::vector<NamedToken>> ReadTokensFile(const std::string& path,
                                               const std::string& flag);
// One line of the file for `token` (no newline).
std::string FormatTokenLine(const NamedToken& token);
// Whether `name` is a valid token name.
bool ValidTokenName(std::string_view name);

// The token's caps against a parsed plan and the runs it has active now:
// kPermissionDenied naming the cap (max-users, max-rate, max-runs), its
// value and the JSON path at fault.
Status CheckTokenCaps(const Plan& plan, const TokenIdentity& who, int64_t active_runs);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_TOKENS_H_
