// What `loadd coordinator` can change while it runs, and SIGHUP's reload:
// the config file, the token file and the tokens file are read again; the
// tokens (names, roles, caps), the allow
// list and the per-run caps apply at once (thread-safe, through BearerAuth
// and LiveLimits), the fleet key goes to the bus, and settings that need a
// restart (bus URL, REST address, TLS files, ...) are logged as such. A
// reload that fails changes nothing and logs why.
#ifndef LOADD_DAEMON_COORDINATOR_RELOAD_H_
#define LOADD_DAEMON_COORDINATOR_RELOAD_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/coordinator/auth.h"
#include "daemon/coordinator/bus_server.h"
#include "daemon/coordinator/coordinator_flags.h"
#include "daemon/coordinator/limits.h"
#include "daemon/coordinator/tokens.h"

namespace loadd {

struct LiveSettings {
  std::string token;  // --token-file's; empty when that flag is ""
  RunLimits limits;
  std::vector<NamedToken> named = {};  // --tokens-file's
};

// Reads the token file and the tokens file and parses the limits named by
// `flags`. --token-file may be "" only with a --tokens-file.
Result<LiveSettings> LoadLiveSettings(const CoordinatorFlags& flags);

// Every token the REST API accepts: the --token-file's as the admin named
// kTokenFileName, then the named ones.
std::vector<NamedToken> AllTokens(const LiveSettings& live);

// One line per live setting that differs, for the log ("--max-users:
// 100000 -> 5000"); tokens are named or said to have changed, never shown.
std::vector<std::string> DescribeLiveChanges(const LiveSettings& before,
                                             const LiveSettings& after);

// The flags whose values differ but take effect only after a restart.
std::vector<std::string> RestartOnlyChanges(const CoordinatorFlags& before,
                                            const CoordinatorFlags& after);

// Everything a reload touches; none owned.
struct ReloadTargets {
  BearerAuth* auth = nullptr;
  LiveLimits* limits = nullptr;
  BusServer* bus = nullptr;   // may be null (tests)
  size_t max_body_bytes = 0;  // what the REST server buffers, fixed at start
};

class Reloader {
 public:
  // argv as given to the coordinator (argv[0] its name); `running` are the
  // flags it started with, `live` what it applies now. Both are copied.
  Reloader(int argc, const char* const* argv, CoordinatorFlags running, LiveSettings live,
           ReloadTargets targets);

  // Re-reads everything and applies what changed. On error nothing changes
  // and the Status says why (also logged).
  Status Reload();

 private:
  std::vector<std::string> args_;
  CoordinatorFlags running_;
  LiveSettings live_;
  ReloadTargets targets_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_RELOAD_H_
