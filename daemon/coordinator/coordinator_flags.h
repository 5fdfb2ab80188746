// Every setting of `loadd coordinator`: its flag, its config-file key (the
// flag's name without the dashes: `max-users = 50k`) and, for some, an
// environment variable. The config file (--config, default
// /etc/loadd/coordinator.conf; a missing default is fine, a missing explicit
// one is an error) is read first, then the environment, then the flags:
// each overrides the one before. Unknown config keys are errors.
#ifndef LOADD_DAEMON_COORDINATOR_COORDINATOR_FLAGS_H_
#define LOADD_DAEMON_COORDINATOR_COORDINATOR_FLAGS_H_

#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/coordinator/auth.h"
#include "daemon/coordinator/bus_server.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/limits.h"
#include "daemon/coordinator/rest_api.h"
#include "daemon/coordinator/store_options.h"

namespace CLI {
class App;
}

namespace loadd {

inline constexpr char kDefaultCoordinatorConfig[] = "/etc/loadd/coordinator.conf";

// Values as given (durations and sizes as text: "30s", "8MiB"); see
// LimitsFromFlags and RestOptionsFromFlags for the parsed forms.
struct CoordinatorFlags {
  std::string config_file;  // the file read, empty when none
  // Loopback by default: exposing the bus or the API is an explicit
  // operator decision (--bus tcp://0.0.0.0:5557).
  std::string bus_url = "tcp://127.0.0.1:5557";
  std::string rest = "127.0.0.1:8089";
  int rest_threads = 2;
  std::string token_file = kDefaultTokenFile;
  std::string tokens_file;  // named tokens (tokens.h); empty: none
  std::string rest_tls_cert;
  std::string rest_tls_key;
  std::string rest_tls_ca;
  std::string rest_header_timeout = "10s";
  std::string rest_body_timeout = "30s";
  std::string rest_idle_timeout = "30s";
  std::vector<std::string> allow_hosts = HostAllowList::DefaultEntries();
  std::string max_users = "100k";
  std::string max_rate = "100k";
  std::string max_duration = "24h";
  std::string max_data_bytes = "8MiB";
  std::string max_plan_bytes = "1MiB";
  std::string max_parsing_bytes = "24MiB";
  CoordinatorConfig config;  // --heartbeat-timeout-ms, --max-queued
  StoreOptions store;
  BusServerFlags bus;
};

// Defines every flag on `app`, bound to `flags`.
void DefineCoordinatorFlags(CLI::App* app, CoordinatorFlags* flags);

// Parses argv (argv[0] is the program or subcommand name) and the config
// file. Returns false when --help was printed to *out and there is nothing
// else to do. Errors name the flag or config file at fault.
Result<bool> ParseCoordinatorFlags(int argc, const char* const* argv,
                                   CoordinatorFlags* flags, std::ostream* out);

// The operator limits; errors name the flag (--max-users: ...).
Result<RunLimits> LimitsFromFlags(const CoordinatorFlags& flags);
// The REST server's settings; max_body_bytes from `limits`.
Result<RestOptions> RestOptionsFromFlags(const CoordinatorFlags& flags,
                                         const RunLimits& limits);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_COORDINATOR_FLAGS_H_
