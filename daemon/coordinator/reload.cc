#include "daemon/coordinator/reload.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "common/log.h"
#include "common/units.h"

namespace loadd {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string Number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  return buf;
}

template <typename T>
void AddIfChanged(const char* flag, const T& before, const T& after,
                  std::string (*text)(T), std::vector<std::string>* out) {
  if (before != after)
    out->push_back(std::string(flag) + ": " + text(before) + " -> " + text(after));
}

std::string IntText(int64_t v) { return std::to_string(v); }
std::string RateText(double v) { return Number(v) + "/s"; }
std::string DurationText(int64_t ns) { return FormatDurationNs(ns); }
std::string BytesText(size_t bytes) { return FormatBytes(bytes); }

}  // namespace

Result<LiveSettings> LoadLiveSettings(const CoordinatorFlags& flags) {
  LiveSettings live;
  if (!flags.token_file.empty() || flags.tokens_file.empty()) {
    Result<std::string> token = ReadTokenFile(flags.token_file, "--token-file");
    if (!token.ok()) return token.status();
    live.token = std::move(*token);
  }
  if (!flags.tokens_file.empty()) {
    Result<std::vector<NamedToken>> named =
        ReadTokensFile(flags.tokens_file, "--tokens-file");
    if (!named.ok()) return named.status();
    live.named = std::move(*named);
    TokenDigest digest = Sha256Of(live.token);
    for (const NamedToken& token : live.named) {
      if (!live.token.empty() && token.digest == digest) {
        return Status::Invalid("--tokens-file", "token \"" + token.name + "\" in " +
                                                    flags.tokens_file +
                                                    " has the --token-file's secret");
      }
    }
  }
  Result<RunLimits> limits = LimitsFromFlags(flags);
  if (!limits.ok()) return limits.status();
  live.limits = std::move(*limits);
  return live;
}

std::vector<NamedToken> AllTokens(const LiveSettings& live) {
  std::vector<NamedToken> all;
  if (!live.token.empty()) {
    all.push_back(NamedToken{kTokenFileName, Role::kAdmin, Sha256Of(live.token), {}});
  }
  all.insert(all.end(), live.named.begin(), live.named.end());
  return all;
}

std::vector<std::string> DescribeLiveChanges(const LiveSettings& before,
                                             const LiveSettings& after) {
  std::vector<std::string> out;
  if (before.token != after.token) out.push_back("REST token: changed");
  std::vector<std::string> added, removed, changed;
  for (const NamedToken& a : after.named) {
    auto b = std::find_if(before.named.begin(), before.named.end(),
                          [&](const NamedToken& t) { return t.name == a.name; });
    if (b == before.named.end()) {
      added.push_back(a.name);
    } else if (!(*b == a)) {
      changed.push_back(a.name);
    }
  }
  for (const NamedToken& b : before.named) {
    if (std::none_of(after.named.begin(), after.named.end(),
                     [&](const NamedToken& t) { return t.name == b.name; })) {
      removed.push_back(b.name);
    }
  }
  if (!added.empty()) out.push_back("--tokens-file: added " + Join(added));
  if (!removed.empty()) out.push_back("--tokens-file: removed " + Join(removed));
  if (!changed.empty()) out.push_back("--tokens-file: changed " + Join(changed));
  const RunLimits& b = before.limits;
  const RunLimits& a = after.limits;
  if (b.hosts.entries() != a.hosts.entries()) {
    out.push_back("--allow-host: " + Join(b.hosts.entries()) + " -> " +
                  Join(a.hosts.entries()));
  }
  AddIfChanged<int64_t>("--max-users", b.max_users, a.max_users, IntText, &out);
  AddIfChanged<double>("--max-rate", b.max_rate, a.max_rate, RateText, &out);
  AddIfChanged<int64_t>("--max-duration", b.max_duration_ns, a.max_duration_ns,
                        DurationText, &out);
  AddIfChanged<size_t>("--max-data-bytes", b.max_data_bytes, a.max_data_bytes, BytesText,
                       &out);
  AddIfChanged<size_t>("--max-plan-bytes", b.max_plan_bytes, a.max_plan_bytes, BytesText,
                       &out);
  AddIfChanged<size_t>("--max-parsing-bytes", b.max_parsing_bytes, a.max_parsing_bytes,
                       BytesText, &out);
  return out;
}

std::vector<std::string> RestartOnlyChanges(const CoordinatorFlags& b,
                                            const CoordinatorFlags& a) {
  std::vector<std::string> out;
  auto check = [&](const char* flag, bool changed) {
    if (changed) out.push_back(flag);
  };
  check("--bus", b.bus_url != a.bus_url);
  check("--rest", b.rest != a.rest);
  check("--rest-threads", b.rest_threads != a.rest_threads);
  check("--rest-tls-cert", b.rest_tls_cert != a.rest_tls_cert);
  check("--rest-tls-key", b.rest_tls_key != a.rest_tls_key);
  check("--rest-tls-ca", b.rest_tls_ca != a.rest_tls_ca);
  check("--rest-header-timeout", b.rest_header_timeout != a.rest_header_timeout);
  check("--rest-body-timeout", b.rest_body_timeout != a.rest_body_timeout);
  check("--rest-idle-timeout", b.rest_idle_timeout != a.rest_idle_timeout);
  check("--heartbeat-timeout-ms",
        b.config.heartbeat_timeout_ms != a.config.heartbeat_timeout_ms);
  check("--state-dir", b.store.state_dir != a.store.state_dir);
  check("--retention-runs", b.store.retention_runs != a.store.retention_runs);
  check("--retention-days", b.store.retention_days != a.store.retention_days);
  check("--bus-tls-cert", b.bus.tls.cert_file != a.bus.tls.cert_file);
  check("--bus-tls-key", b.bus.tls.key_file != a.bus.tls.key_file);
  check("--bus-tls-ca", b.bus.tls.ca_file != a.bus.tls.ca_file);
  return out;
}

Reloader::Reloader(int argc, const char* const* argv, CoordinatorFlags running,
                   LiveSettings live, ReloadTargets targets)
    : args_(argv, argv + argc),
      running_(std::move(running)),
      live_(std::move(live)),
      targets_(targets) {}

Status Reloader::Reload() {
  std::vector<const char*> argv;
  for (const std::string& arg : args_) argv.push_back(arg.c_str());
  CoordinatorFlags next;
  std::ostringstream help;
  Result<bool> parsed =
      ParseCoordinatorFlags(static_cast<int>(argv.size()), argv.data(), &next, &help);
  Status status = parsed.ok() ? Status::Ok() : parsed.status();
  Result<LiveSettings> live =
      status.ok() ? LoadLiveSettings(next) : Result<LiveSettings>(status);
  if (status.ok() && !live.ok()) status = live.status();
  Result<BusServerOptions> bus =
      status.ok() ? next.bus.Load() : Result<BusServerOptions>(status);
  if (status.ok() && !bus.ok()) status = bus.status();
  if (!status.ok()) {
    LOG_ERROR("SIGHUP: reload failed, keeping the running settings: %s",
              status.ToString().c_str());
    return status;
  }
  std::vector<std::string> changes = DescribeLiveChanges(live_, *live);
  targets_.auth->SetTokens(AllTokens(*live));
  targets_.limits->Set(live->limits);
  if (targets_.bus != nullptr) targets_.bus->SetFleetKey(bus->fleet_key);
  for (const std::string& change : changes) LOG_INFO("SIGHUP: %s", change.c_str());
  if (changes.empty()) LOG_INFO("SIGHUP: tokens, allow list and caps unchanged");
  LOG_INFO("SIGHUP: fleet key re-read from %s", next.bus.fleet_key_file.c_str());
  std::vector<std::string> restart = RestartOnlyChanges(running_, next);
  if (!restart.empty()) {
    LOG_WARN("SIGHUP: %s changed but take effect only after a restart",
             Join(restart).c_str());
  }
  if (live->limits.MaxBodyBytes() > targets_.max_body_bytes) {
    LOG_WARN(
        "SIGHUP: request bodies stay capped at %zu bytes (--max-plan-bytes + "
        "--max-data-bytes at start) until a restart",
        targets_.max_body_bytes);
  }
  live_ = std::move(*live);
  return Status::Ok();
}

}  // namespace loadd
