#include "daemon/target/target_routes.h"

#include <algorithm>
#include <charconv>

#include "common/units.h"

namespace loadd {

// Drops the fragment and, for absolute form, the scheme and authority.
UrlParts SplitRequestUrl(std::string_view url) {
  url = url.substr(0, url.find('#'));
  size_t scheme_end = url.find("://");
  if (!url.empty() && url[0] != '/' && scheme_end != std::string_view::npos) {
    size_t path_start = url.find_first_of("/?", scheme_end + 3);
    url = path_start == std::string_view::npos ? std::string_view()
                                               : url.substr(path_start);
  }
  size_t question = url.find('?');
  UrlParts split;
  split.path = url.substr(0, question);
  if (question != std::string_view::npos) split.query = url.substr(question + 1);
  return split;
}

namespace {

Route BadRequest(std::string_view what, const std::string& why) {
  Route route;
  route.status = 400;
  route.text = "bad request: " + std::string(what) + ": " + why + "\n";
  return route;
}

// Applies one setting ("status", "size" or "delay"); false (with *error set)
// when the value does not parse. Unknown names are ignored.
bool Apply(std::string_view name, std::string_view value, Route* route, Route* error) {
  if (name == "status") {
    int status = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), status);
    if (ec != std::errc() || end != value.data() + value.size() || status < 200 ||
        status > 599) {
      *error = BadRequest("status", "\"" + std::string(value) + "\" is not 200..599");
      return false;
    }
    route->status = status;
  } else if (name == "size" || name == "bytes") {
    Result<int64_t> bytes = ParseSizeBytes(value);
    if (!bytes.ok()) {
      *error = BadRequest("size", bytes.status().message());
      return false;
    }
    route->fill_bytes = std::min(*bytes, kMaxBodyBytes);
  } else if (name == "delay" || name == "stall_every" || name == "stall_for") {
    Result<int64_t> ns = ParseDurationNs(value);
    if (!ns.ok()) {
      *error = BadRequest(name, ns.status().message());
      return false;
    }
    int64_t clamped = std::min(*ns, kMaxDelayNs);
    if (name == "delay") {
      route->delay_ns = clamped;
    } else if (name == "stall_every") {
      route->stall_every_ns = clamped;
    } else {
      route->stall_for_ns = clamped;
    }
  }
  return true;
}

}  // namespace

int64_t StallDelayNs(const Route& route, int64_t now_ns) {
  if (route.stall_every_ns <= 0 || route.stall_for_ns <= 0) return 0;
  int64_t phase = now_ns % route.stall_every_ns;
  return phase < route.stall_for_ns ? route.stall_for_ns - phase : 0;
}

namespace {

// Applies every name=value pair of `query`, in order.
bool ApplyQuery(std::string_view query, Route* route, Route* error) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (!Apply(pair.substr(0, eq), pair.substr(eq + 1), route, error)) return false;
  }
  return true;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

Route RouteRequest(std::string_view url) {
  UrlParts split = SplitRequestUrl(url);
  Route route;
  Route error;
  if (split.path == "/__stats") {
    route.kind = RouteKind::kStats;
    return route;
  }
  if (split.path == "/__reset") {
    route.kind = RouteKind::kReset;
    route.text = "reset\n";
    return route;
  }
  if (StartsWith(split.path, "/delay/")) {
    if (!Apply("delay", split.path.substr(7), &route, &error)) return error;
  } else if (StartsWith(split.path, "/bytes/")) {
    if (!Apply("size", split.path.substr(7), &route, &error)) return error;
  }
  if (!ApplyQuery(split.query, &route, &error)) return error;
  if (route.status != 200) route.text = "status " + std::to_string(route.status) + "\n";
  return route;
}

}  // namespace loadd
