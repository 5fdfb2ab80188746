#include "daemon/coordinator/coordinator_flags.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <sstream>

#include "common/units.h"

namespace loadd {
namespace {

// CLI11 2.1 applies a config file before the environment, so a key in the
// file would beat its environment variable (LOADD_TOKEN_FILE). loadd's order
// is config file, then environment, then flags, each overriding the one
// before: drop the file's value of any option whose variable is set. (The
// worker does the same in worker_main.cc.)
class EnvFirstConfig final : public CLI::ConfigTOML {
 public:
  explicit EnvFirstConfig(const CLI::App* app) : app_(app) {}
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> items = CLI::ConfigTOML::from_config(input);
    std::erase_if(items, [this](const CLI::ConfigItem& item) {
      const CLI::Option* option = app_->get_option_no_throw("--" + item.name);
      if (!item.parents.empty() || option == nullptr || option->get_envname().empty()) {
        return false;
      }
      const char* value = std::getenv(option->get_envname().c_str());
      return value != nullptr && *value != '\0';
    });
    return items;
  }

 private:
  const CLI::App* app_;
};

Status ParseField(const std::string& flag, const std::string& text, int64_t min,
                  int64_t max, Result<int64_t> (*parse)(std::string_view), int64_t* out) {
  Result<int64_t> value = parse(text);
  if (!value.ok())
    return Status::Invalid(flag, "\"" + text + "\": " + value.status().message());
  if (*value < min || *value > max) {
    return Status::Invalid(flag, "\"" + text + "\" must be between " +
                                     std::to_string(min) + " and " + std::to_string(max));
  }
  *out = *value;
  return Status::Ok();
}

}  // namespace

void DefineCoordinatorFlags(CLI::App* app, CoordinatorFlags* f) {
  app->set_config("--config", kDefaultCoordinatorConfig,
                  "TOML/INI file of settings: any flag without its dashes as a key, e.g. "
                  "max-users = \"50k\" (a missing default file is fine)");
  app->config_formatter(std::make_shared<EnvFirstConfig>(app));
  app->allow_config_extras(CLI::config_extras_mode::error);
  app->add_option("--bus", f->bus_url, "Fleet bus URL workers dial")
      ->capture_default_str();
  app->add_option("--rest", f->rest, "HOST:PORT of the REST API")->capture_default_str();
  app->add_option("--rest-threads", f->rest_threads, "REST server threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app->add_option(
         "--token-file", f->token_file,
         "File holding the REST API's bearer token (mode 0600; `loadd keygen` makes one)")
      ->envname("LOADD_TOKEN_FILE")
      ->capture_default_str();
  app->add_option("--tokens-file", f->tokens_file,
                  "File of named REST tokens with roles and caps (docs/operations.md; "
                  "`loadd token add` writes it; mode 0600). With it, --token-file may "
                  "be \"\"")
      ->envname("LOADD_TOKENS_FILE");
  app->add_option("--rest-tls-cert", f->rest_tls_cert,
                  "PEM certificate: serve REST over HTTPS");
  app->add_option("--rest-tls-key", f->rest_tls_key,
                  "PEM private key of --rest-tls-cert");
  app->add_option("--rest-tls-ca", f->rest_tls_ca,
                  "PEM CA: require REST clients to present a certificate it signed");
  app->add_option("--rest-header-timeout", f->rest_header_timeout,
                  "A request's line and headers must arrive within this long")
      ->capture_default_str();
  app->add_option("--rest-body-timeout", f->rest_body_timeout,
                  "A request's body must arrive within this long")
      ->capture_default_str();
  app->add_option("--rest-idle-timeout", f->rest_idle_timeout,
                  "An idle keep-alive REST connection is closed after this long")
      ->capture_default_str();
  app->add_option(
         "--allow-host", f->allow_hosts,
         "Hosts plans may target: name, *.domain, IP or CIDR (repeatable; replaces "
         "the default)")
      ->capture_default_str();
  app->add_option("--max-users", f->max_users,
                  "Most users (or iterations in flight) per run")
      ->capture_default_str();
  app->add_option("--max-rate", f->max_rate,
                  "Most arrivals per second per run (open model)")
      ->capture_default_str();
  app->add_option("--max-duration", f->max_duration, "Longest run")
      ->capture_default_str();
  app->add_option("--max-data-bytes", f->max_data_bytes, "Largest data file of a plan")
      ->capture_default_str();
  app->add_option("--max-plan-bytes", f->max_plan_bytes,
                  "Largest plan, apart from its data file")
      ->capture_default_str();
  app->add_option("--max-parsing-bytes", f->max_parsing_bytes,
                  "Most plan body bytes received and parsed at once, all clients "
                  "together (more: 503, try again)")
      ->envname("LOADD_MAX_PARSING_BYTES")
      ->capture_default_str();
  app->add_option("--heartbeat-timeout-ms", f->config.heartbeat_timeout_ms,
                  "A worker silent this long is lost")
      ->capture_default_str()
      ->check(CLI::Range(500, 600000));
  app->add_option("--max-queued", f->config.max_queued,
                  "Most runs waiting in the run queue for their workers (more: 429)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  AddStoreFlags(app, &f->store);
  f->bus.AddTo(app);
}

Result<bool> ParseCoordinatorFlags(int argc, const char* const* argv,
                                   CoordinatorFlags* flags, std::ostream* out) {
  CLI::App app{
      "loadd coordinator: the fleet's REST API, worker registry and stats merger",
      "loadd coordinator"};
  DefineCoordinatorFlags(&app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      std::ostringstream ignored;
      app.exit(e, *out, ignored);
      return false;
    }
    std::string where =
        app.get_config_ptr()->count() > 0
            ? " (config file " + app.get_config_ptr()->as<std::string>() + ")"
            : "";
    return Status::Invalid(
        "", std::string(e.what()) + where + " (see loadd coordinator --help)");
  }
  CLI::Option* config = app.get_config_ptr();
  flags->config_file = config->count() > 0 ? config->as<std::string>() : "";
  return true;
}

Result<RunLimits> LimitsFromFlags(const CoordinatorFlags& flags) {
  RunLimits limits;
  Result<HostAllowList> hosts = HostAllowList::Parse(flags.allow_hosts, "--allow-host");
  if (!hosts.ok()) return hosts.status();
  limits.hosts = std::move(*hosts);
  int64_t rate = 0, data = 0, plan = 0, parsing = 0;
  LOADD_RETURN_IF_ERROR(ParseField("--max-users", flags.max_users, 1, Plan::kMaxUsers,
                                   ParseCount, &limits.max_users));
  LOADD_RETURN_IF_ERROR(ParseField("--max-rate", flags.max_rate, 1,
                                   static_cast<int64_t>(Plan::kMaxRate), ParseCount,
                                   &rate));
  LOADD_RETURN_IF_ERROR(ParseField("--max-duration", flags.max_duration, kNsPerSec,
                                   int64_t{30} * 24 * 3600 * kNsPerSec, ParseDurationNs,
                                   &limits.max_duration_ns));
  LOADD_RETURN_IF_ERROR(ParseField("--max-data-bytes", flags.max_data_bytes, 0,
                                   static_cast<int64_t>(DataFile::kMaxBytes),
                                   ParseSizeBytes, &data));
  LOADD_RETURN_IF_ERROR(ParseField("--max-plan-bytes", flags.max_plan_bytes, 64 << 10,
                                   int64_t{64} << 20, ParseSizeBytes, &plan));
  limits.max_rate = static_cast<double>(rate);
  limits.max_data_bytes = static_cast<size_t>(data);
  limits.max_plan_bytes = static_cast<size_t>(plan);
  LOADD_RETURN_IF_ERROR(ParseField("--max-parsing-bytes", flags.max_parsing_bytes, 0,
                                   int64_t{4} << 30, ParseSizeBytes, &parsing));
  limits.max_parsing_bytes = static_cast<size_t>(parsing);
  if (limits.max_parsing_bytes < limits.MaxBodyBytes()) {  // room for the largest plan
    return Status::Invalid(
        "--max-parsing-bytes",
        "\"" + flags.max_parsing_bytes +
            "\" must be at least --max-plan-bytes + --max-data-bytes (" +
            FormatBytes(limits.MaxBodyBytes()) + ")");
  }
  return limits;
}

Result<RestOptions> RestOptionsFromFlags(const CoordinatorFlags& flags,
                                         const RunLimits& limits) {
  RestOptions options;
  options.address = flags.rest;
  options.threads = flags.rest_threads;
  options.tls_cert_file = flags.rest_tls_cert;
  options.tls_key_file = flags.rest_tls_key;
  options.tls_ca_file = flags.rest_tls_ca;
  options.max_body_bytes = limits.MaxBodyBytes();
  int64_t header_ns = 0, body_ns = 0, idle_ns = 0;
  constexpr int64_t kMaxNs = int64_t{3600} * kNsPerSec;
  LOADD_RETURN_IF_ERROR(ParseField("--rest-header-timeout", flags.rest_header_timeout,
                                   100 * kNsPerMs, kMaxNs, ParseDurationNs, &header_ns));
  LOADD_RETURN_IF_ERROR(ParseField("--rest-body-timeout", flags.rest_body_timeout,
                                   100 * kNsPerMs, kMaxNs, ParseDurationNs, &body_ns));
  LOADD_RETURN_IF_ERROR(ParseField("--rest-idle-timeout", flags.rest_idle_timeout,
                                   100 * kNsPerMs, kMaxNs, ParseDurationNs, &idle_ns));
  options.header_timeout_ms = header_ns / kNsPerMs;
  options.body_timeout_ms = body_ns / kNsPerMs;
  options.idle_timeout_ms = idle_ns / kNsPerMs;
  return options;
}

}  // namespace loadd
