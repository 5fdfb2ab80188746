#include "daemon/coordinator/limits.h"

#include <algorithm>
#include <cstdio>

#include "common/units.h"

namespace loadd {
namespace {

std::string FormatNumber(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  return buf;
}

// "<what> is above this coordinator's limit of <limit> per run; ..."
Status OverLimit(const std::string& path, const std::string& what,
                 const std::string& limit, const char* key) {
  return Status(StatusCode::kPermissionDenied,
                what + " is above this coordinator's limit of " + limit +
                    " per run; its operator can raise it with --" + key + " (" + key +
                    " in the coordinator's config file, applied on SIGHUP)",
                path);
}

Status CheckHost(const Url& url, const std::string& path, const HostAllowList& hosts) {
  if (hosts.Allows(url.host)) return Status::Ok();
  return Status(StatusCode::kPermissionDenied,
                "host \"" + url.host + "\" is not in this coordinator's allow list (" +
                    hosts.Summary(10) + "); its operator can add it with --allow-host " +
                    url.host +
                    " (allow-host in the coordinator's config file, applied on SIGHUP)",
                path);
}

Status CheckHosts(const Plan& plan, const HostAllowList& hosts) {
  if (!plan.target.empty()) {
    Result<Url> target = ParseUrl(plan.target);
    if (target.ok()) LOADD_RETURN_IF_ERROR(CheckHost(*target, "$.target", hosts));
  }
  for (size_t i = 0; i < plan.requests.size(); ++i) {
    LOADD_RETURN_IF_ERROR(
        CheckHost(plan.requests[i].url, JsonPathIndex("$.requests", i) + ".url", hosts));
  }
  for (size_t i = 0; i < plan.scenarios.size(); ++i) {
    const std::string at = JsonPathIndex("$.scenarios", i) + ".steps";
    for (size_t j = 0; j < plan.scenarios[i].steps.size(); ++j) {
      LOADD_RETURN_IF_ERROR(CheckHost(plan.scenarios[i].steps[j].url,
                                      JsonPathIndex(at, j) + ".url", hosts));
    }
  }
  return Status::Ok();
}

Status CheckLoad(const Plan& plan, const RunLimits& limits) {
  const std::string users_limit = std::to_string(limits.max_users) + " users";
  const std::string rate_limit = FormatNumber(limits.max_rate) + " arrivals/s";
  if (plan.model == LoadModel::kOpen) {
    if (plan.max_in_flight > limits.max_users) {
      return OverLimit("$.max_in_flight",
                       std::to_string(plan.max_in_flight) + " iterations in flight",
                       users_limit, "max-users");
    }
    if (plan.arrival_rate > limits.max_rate) {
      return OverLimit("$.arrival_rate", FormatNumber(plan.arrival_rate) + " arrivals/s",
                       rate_limit, "max-rate");
    }
    if (plan.start_rate > limits.max_rate) {
      return OverLimit("$.start_rate", FormatNumber(plan.start_rate) + " arrivals/s",
                       rate_limit, "max-rate");
    }
  } else if (plan.stages.empty() && plan.users > limits.max_users) {
    return OverLimit("$.users", std::to_string(plan.users) + " users", users_limit,
                     "max-users");
  }
  for (size_t i = 0; i < plan.stages.size(); ++i) {
    const double target = plan.stages[i].target;
    const std::string at = JsonPathIndex("$.stages", i);
    if (plan.model == LoadModel::kOpen && target > limits.max_rate) {
      return OverLimit(at + ".rate", FormatNumber(target) + " arrivals/s", rate_limit,
                       "max-rate");
    }
    if (plan.model == LoadModel::kClosed &&
        target > static_cast<double>(limits.max_users)) {
      return OverLimit(at + ".users", FormatNumber(target) + " users", users_limit,
                       "max-users");
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<std::string> AllowHostsOf(const LiveLimits* limits) {
  if (limits == nullptr) return {};
  return limits->Get()->hosts.entries();
}

std::string FormatBytes(size_t bytes) {
  char buf[32];
  if (bytes >= (size_t{1} << 20) && bytes % (size_t{1} << 10) == 0) {
    std::snprintf(buf, sizeof buf, "%.4g MiB", static_cast<double>(bytes) / (1 << 20));
  } else if (bytes >= (size_t{1} << 10) && bytes % (size_t{1} << 10) == 0) {
    std::snprintf(buf, sizeof buf, "%zu KiB", bytes >> 10);
  } else {
    std::snprintf(buf, sizeof buf, "%zu bytes", bytes);
  }
  return buf;
}

Status CheckRunLimits(const Plan& plan, size_t body_bytes, const RunLimits& limits) {
  LOADD_RETURN_IF_ERROR(CheckHosts(plan, limits.hosts));
  LOADD_RETURN_IF_ERROR(CheckLoad(plan, limits));
  if (plan.duration_ns > limits.max_duration_ns) {
    return OverLimit(plan.stages.empty() ? "$.duration" : "$.stages",
                     "a duration of " + FormatDurationNs(plan.duration_ns),
                     FormatDurationNs(limits.max_duration_ns), "max-duration");
  }
  size_t data_bytes = plan.data.content.size();
  if (data_bytes > limits.max_data_bytes) {
    return OverLimit("$.data.content", "a data file of " + FormatBytes(data_bytes),
                     FormatBytes(limits.max_data_bytes), "max-data-bytes");
  }
  size_t plan_bytes = body_bytes > data_bytes ? body_bytes - data_bytes : 0;
  if (plan_bytes > limits.max_plan_bytes) {
    return OverLimit(
        "$", "a plan of " + FormatBytes(plan_bytes) + " (apart from its data file)",
        FormatBytes(limits.max_plan_bytes), "max-plan-bytes");
  }
  return Status::Ok();
}

}  // namespace loadd
