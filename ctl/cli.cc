#include "ctl/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include "ctl/curl_api_client.h"
#include "ctl/live_view.h"
#include "ctl/local_fleet.h"

namespace loadd {
namespace {

// The coordinator at a URL, or (--local) a fleet started on first use.
class RealConnector final : public Connector {
 public:
  RealConnector(const Options& options, const Waiter* waiter, std::ostream* err)
      : options_(options), waiter_(waiter), err_(err) {}

  Result<ApiClient*> Connect() override {
    if (client_ != nullptr) return static_cast<ApiClient*>(client_.get());
    std::string url;
    if (options_.local) {
      Result<std::string> started = StartFleet();
      if (!started.ok()) return started.status();
      url = *started;
    } else {
      Result<std::string> resolved =
          ResolveCoordinatorUrl(options_.coordinator, std::getenv("LOADD_COORDINATOR"));
      if (!resolved.ok()) return resolved.status();
      url = *resolved;
    }
    Credentials credentials;
    if (fleet_ != nullptr) {
      credentials = fleet_->credentials();
    } else {
      RealFiles files;
      Result<Credentials> resolved =
          ResolveCredentials(options_.credentials, std::getenv("LOADD_TOKEN"), &files);
      if (!resolved.ok()) return resolved.status();
      credentials = std::move(*resolved);
    }
    client_ = std::make_unique<CurlApiClient>(url, std::move(credentials));
    return static_cast<ApiClient*>(client_.get());
  }

 private:
  Result<std::string> StartFleet() {
    Result<std::string> loadd = FindLoadd();
    if (!loadd.ok()) return loadd.status();
    LocalFleetOptions fleet_options;
    fleet_options.loadd_path = *loadd;
    fleet_options.workers = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
    fleet_options.inherit_stderr = options_.verbose;
    fleet_options.waiter = waiter_;
    *err_ << "loadctl: starting a local fleet (" << *loadd << ", "
          << fleet_options.workers << " workers)\n";
    Result<std::unique_ptr<LocalFleet>> fleet = LocalFleet::Start(fleet_options);
    if (!fleet.ok()) return fleet.status();
    fleet_ = std::move(*fleet);
    return fleet_->rest_url();
  }

  const Options& options_;
  const Waiter* waiter_;
  std::ostream* err_;
  std::unique_ptr<LocalFleet> fleet_;  // declared first: outlives the client
  std::unique_ptr<CurlApiClient> client_;
};

void DefineGlobalFlags(CLI::App* app, Options* options) {
  app->add_option(
         "--coordinator", options->coordinator,
         "Coordinator URL (default: $LOADD_COORDINATOR, else http://127.0.0.1:8089)")
      ->type_name("URL");
  app->add_flag("--json", options->json,
                "Print the coordinator's JSON instead of tables");
  app->add_flag("-v,--verbose", options->verbose,
                "With --local: the fleet logs to stderr");
  app->add_option("--token-file", options->credentials.token_file,
                  "File holding the coordinator's REST token (else $LOADD_TOKEN, else "
                  "/etc/loadd/token when readable)")
      ->envname("LOADD_TOKEN_FILE")
      ->type_name("FILE");
  app->add_option("--cacert", options->credentials.ca_file,
                  "PEM CA that signed an https:// coordinator's certificate")
      ->envname("LOADD_CACERT")
      ->type_name("FILE");
  app->add_option("--client-cert", options->credentials.client_cert,
                  "PEM certificate to present to a coordinator that asks for one")
      ->envname("LOADD_CLIENT_CERT")
      ->type_name("FILE");
  app->add_option("--client-key", options->credentials.client_key,
                  "PEM private key of --client-cert")
      ->envname("LOADD_CLIENT_KEY")
      ->type_name("FILE");
}

}  // namespace

Result<Invocation> ParseCommandLine(int argc, const char* const* argv,
                                    std::ostream* out) {
  Options options;
  CLI::App app("loadctl: start and inspect load test runs on a loadd fleet", "loadctl");
  app.set_version_flag("--version", LOADD_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags are accepted after the subcommand too
  DefineGlobalFlags(&app, &options);
  std::vector<std::pair<CLI::App*, const Command*>> subcommands;
  for (const Command& command : Commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.help);
    command.define(sub, &options);
    subcommands.emplace_back(sub, &command);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) {
      return Status::Invalid("", std::string(e.what()) + " (see loadctl --help)");
    }
    std::ostringstream ignored_err;
    app.exit(e, *out, ignored_err);  // --help or --version
    return Invocation{};
  }
  Invocation invocation;
  for (const auto& [sub, command] : subcommands) {
    if (sub->parsed()) invocation.command = command;
  }
  invocation.options = options;
  return invocation;
}

int LoadctlMain(int argc, const char* const* argv) {
  Result<Invocation> parsed = ParseCommandLine(argc, argv, &std::cout);
  if (!parsed.ok()) {
    std::cerr << FormatError(parsed.status()) << '\n';
    return ExitCodeFor(parsed.status());
  }
  if (parsed->command == nullptr) return ExitCodeFor(Outcome::kSuccess);
  const Options& options = parsed->options;
  SignalWaiter waiter;
  if (parsed->command->catches_interrupts) waiter.Arm();
  RealFiles files;
  RealConnector connector(options, &waiter, &std::cerr);
  Env env;
  env.connector = &connector;
  env.files = &files;
  env.waiter = &waiter;
  env.clock = RealClock::Get();
  env.out = &std::cout;
  env.err = &std::cerr;
  env.out_is_tty = isatty(STDOUT_FILENO) == 1;
  env.err_is_tty = isatty(STDERR_FILENO) == 1;
  env.term = std::getenv("TERM");
  env.no_color = std::getenv("NO_COLOR");
  env.terminal_size = TerminalSize;
  Result<Outcome> outcome = parsed->command->run(options, &env);
  std::cout.flush();
  if (!outcome.ok()) std::cerr << FormatError(outcome.status()) << '\n';
  return ExitCodeFor(outcome);
}

}  // namespace loadd
