#include "daemon/coordinator/limits.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "common/units.h"

namespace loadd {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Lower case, brackets and one trailing dot removed: how hosts compare.
std::string NormalizeHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return Lower(host);
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// Parses an IP literal; an IPv4-mapped IPv6 address comes back as IPv4.
bool ParseIp(const std::string& text, bool* v6, std::array<unsigned char, 16>* addr) {
  addr->fill(0);
  if (inet_pton(AF_INET, text.c_str(), addr->data()) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), addr->data()) != 1) return false;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped, kMapped + 12, addr->begin())) {
    std::copy(addr->begin() + 12, addr->end(), addr->begin());
    std::fill(addr->begin() + 4, addr->end(), 0);
    *v6 = false;
    return true;
  }
  *v6 = true;
  return true;
}

bool PrefixMatches(const std::array<unsigned char, 16>& a,
                   const std::array<unsigned char, 16>& b, int bits) {
  int full = bits / 8;
  if (!std::equal(a.begin(), a.begin() + full, b.begin())) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

std::string Join(const std::vector<std::string>& items, size_t max_items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max_items; ++i)
    out += (i ? ", " : "") + items[i];
  if (items.size() > max_items)
    out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out.empty() ? "nothing" : out;
}

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
                    Join(hosts.entries(), 10) +
                    "); its operator can add it with --allow-host " + url.host +
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

HostAllowList::HostAllowList() : HostAllowList(Empty{}) {
  for (const std::string& entry : DefaultEntries()) (void)Add(entry, "");
}

std::vector<std::string> HostAllowList::DefaultEntries() {
  return {"127.0.0.0/8", "::1", "localhost"};
}

Result<HostAllowList> HostAllowList::Parse(const std::vector<std::string>& entries,
                                           const std::string& flag) {
  HostAllowList list{Empty{}};
  for (const std::string& entry : entries) LOADD_RETURN_IF_ERROR(list.Add(entry, flag));
  return list;
}

Status HostAllowList::Add(const std::string& raw, const std::string& flag) {
  std::string entry = NormalizeHost(raw);
  auto bad = [&](const std::string& why) {
    return Status::Invalid(flag,
                           "\"" + raw + "\" " + why +
                               " (expected a host name, *.domain, an IP address or a "
                               "CIDR range such as 10.0.0.0/8)");
  };
  if (entry.empty()) return bad("is empty");
  size_t slash = entry.find('/');
  Net net;
  if (slash != std::string::npos) {
    std::string bits_text = entry.substr(slash + 1);
    if (!ParseIp(entry.substr(0, slash), &net.v6, &net.addr))
      return bad("is not an IP range");
    bool mapped = !net.v6 && entry.find(':') != std::string::npos;
    int max_bits = net.v6 ? 128 : 32;
    char* end = nullptr;
    long bits = std::strtol(bits_text.c_str(), &end, 10);
    if (bits_text.empty() || *end != '\0' || bits < (mapped ? 96 : 0) ||
        bits > (mapped ? 128 : max_bits)) {
      return bad("has a prefix length outside 0.." + std::to_string(max_bits));
    }
    net.prefix_bits = static_cast<int>(mapped ? bits - 96 : bits);
    std::array<unsigned char, 16> masked{};
    for (int i = 0; i < 16; ++i) {
      int keep = std::clamp(net.prefix_bits - 8 * i, 0, 8);
      masked[i] = static_cast<unsigned char>(net.addr[i] & (0xff << (8 - keep)));
    }
    if (masked != net.addr) return bad("has address bits set beyond its prefix length");
  } else if (ParseIp(entry, &net.v6, &net.addr)) {
    net.prefix_bits = net.v6 ? 128 : 32;
  } else {
    bool suffix = entry.rfind("*.", 0) == 0;
    std::string name = suffix ? entry.substr(1) : entry;  // ".example.com"
    if (name.find('*') != std::string::npos) return bad("may only start with *.");
    if (name.find("..") != std::string::npos || name == ".")
      return bad("has an empty label");
    if (!std::all_of(name.begin(), name.end(), IsNameChar))
      return bad("is not a host name");
    (suffix ? suffixes_ : names_).push_back(name);
    entries_.push_back(raw);
    return Status::Ok();
  }
  nets_.push_back(net);
  entries_.push_back(raw);
  return Status::Ok();
}

bool HostAllowList::Allows(std::string_view host_text) const {
  std::string host = NormalizeHost(host_text);
  if (host.empty()) return false;
  bool v6 = false;
  std::array<unsigned char, 16> addr;
  if (ParseIp(host, &v6, &addr)) {
    return std::any_of(nets_.begin(), nets_.end(), [&](const Net& net) {
      return net.v6 == v6 && PrefixMatches(net.addr, addr, net.prefix_bits);
    });
  }
  if (std::find(names_.begin(), names_.end(), host) != names_.end()) return true;
  return std::any_of(suffixes_.begin(), suffixes_.end(), [&](const std::string& suffix) {
    return host.size() > suffix.size() && host.ends_with(suffix);
  });
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
