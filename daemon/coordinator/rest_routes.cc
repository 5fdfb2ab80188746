#include "daemon/coordinator/rest_routes.h"

#include <cstdio>
#include <optional>

#include "web/embedded_files.h"

namespace loadd {
namespace {

namespace Http = Pistache::Http;

// The next segment of `path` from *pos, runs of '/' skipped; empty at the end.
std::string_view NextSegment(std::string_view path, size_t* pos) {
  size_t i = *pos;
  while (i < path.size() && path[i] == '/') ++i;
  size_t start = i;
  while (i < path.size() && path[i] != '/') ++i;
  *pos = i;
  return path.substr(start, i - start);
}

// True when `resource` has the segments of `pattern`; *param is the one a
// ":name" segment matched.
bool Matches(std::string_view pattern, std::string_view resource,
             std::string_view* param) {
  size_t p = 0;
  size_t r = 0;
  for (;;) {
    std::string_view want = NextSegment(pattern, &p);
    std::string_view got = NextSegment(resource, &r);
    if (want.empty() || got.empty()) return want.empty() && got.empty();
    if (want.front() == ':') {
      *param = got;
    } else if (want != got) {
      return false;
    }
  }
}

bool IsOpen(const RouteMatch& match) {
  if (match.rule == nullptr) return false;
  switch (match.rule->access) {
    case RouteAccess::kToken:
      return false;
    case RouteAccess::kOpen:
      return true;
    case RouteAccess::kOpenIfDashboardFile:
      return FindEmbeddedFile(match.param) != nullptr;
  }
  return false;
}

Status Unauthenticated(bool header_sent) {
  return Status(
      StatusCode::kUnauthenticated,
      header_sent ? "wrong bearer token; use the token in the coordinator's --token-file"
                  : "this API needs a bearer token: send `Authorization: Bearer TOKEN` "
                    "with the token in the coordinator's --token-file (loadctl reads it "
                    "from --token-file, LOADD_TOKEN_FILE or LOADD_TOKEN)");
}

Status NoRoute(const RouteMatch& match, Http::Method method, std::string_view resource) {
  std::string what =
      std::string(Http::methodString(method)) + " " + Printable(resource, 200);
  if (match.methods.empty()) {
    return Status(StatusCode::kNotFound,
                  "no such endpoint: " + what + " (see docs/rest-api.md)");
  }
  return Status(StatusCode::kNotFound, "no such endpoint: " + what +
                                           " (this path answers " + match.methods +
                                           "; see docs/rest-api.md)");
}

Status BodyRefused(const RouteRule& rule, size_t content_length,
                   const RunLimits& limits) {
  std::string route = std::string(Http::methodString(rule.method)) + " " + rule.path;
  std::string declared =
      "; this request declares " + std::to_string(content_length) + " bytes";
  switch (rule.body) {
    case RouteBody::kNone:
      return Status(StatusCode::kResourceExhausted,
                    route + " takes no request body" + declared);
    case RouteBody::kSmall:
      return Status(StatusCode::kResourceExhausted,
                    route + " reads at most " + std::to_string(kSmallBodyBytes) +
                        " bytes of body (and ignores them)" + declared);
    case RouteBody::kJson:
      return Status(StatusCode::kResourceExhausted, route + " reads at most " +
                                                        std::to_string(kSmallBodyBytes) +
                                                        " bytes of JSON body" + declared);
    case RouteBody::kPlan:
      return BodyTooLarge(content_length, limits);
  }
  return Status(StatusCode::kInternal, "unknown body kind");
}

Status RoleRefused(const RouteRule& rule, const TokenIdentity& who) {
  const char* needs = rule.role == RouteRole::kAdmin ? "admin" : "runner or admin";
  return Status(StatusCode::kPermissionDenied,
                "token \"" + who.name + "\" has role " + RoleName(who.role) + "; " +
                    Http::methodString(rule.method) + " " + rule.path + " needs role " +
                    needs + " (roles are set in the coordinator's tokens file)");
}

size_t MaxBodyBytes(RouteBody body, const RunLimits& limits) {
  switch (body) {
    case RouteBody::kNone:
      return 0;
    case RouteBody::kSmall:
    case RouteBody::kJson:
      return kSmallBodyBytes;
    case RouteBody::kPlan:
      return limits.MaxBodyBytes();
  }
  return 0;
}

}  // namespace

RouteMatch MatchRoute(Http::Method method, std::string_view resource) {
  RouteMatch match;
  for (const RouteRule& rule : kRoutes) {
    std::string_view param;
    if (!Matches(rule.path, resource, &param)) continue;
    if (rule.method == method) {
      match.rule = &rule;
      match.param = std::string(param);
      match.methods.clear();
      return match;
    }
    std::string name = Http::methodString(rule.method);
    if (match.methods.find(name) == std::string::npos) {
      match.methods += (match.methods.empty() ? "" : ", ") + name;
    }
  }
  return match;
}

bool RoleAllows(Role role, RouteRole needed) {
  switch (needed) {
    case RouteRole::kRead:
      return true;
    case RouteRole::kOwnRun:
      return role >= Role::kRunner;
    case RouteRole::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

Status AdmitRequest(const RouteMatch& match, const RestRequest& request,
                    size_t content_length, const BearerAuth& auth,
                    const RunLimits& limits, std::optional<TokenIdentity>* who) {
  // A body is never a stranger's: the open routes take none, and even the
  // refusal of one waits for the token (so only its holder is ever made to
  // wait for a body's end before the connection closes, rest_reader.h).
  std::optional<TokenIdentity> identity;
  if (!IsOpen(match) || content_length > 0) {
    std::optional<std::string> header = request.Header("Authorization");
    if (header) identity = auth.Identify(*header);
    if (!identity) return Unauthenticated(header.has_value());
    if (who != nullptr) *who = identity;
  }
  if (match.rule == nullptr) return NoRoute(match, request.method, request.resource);
  if (identity && !RoleAllows(identity->role, match.rule->role)) {
    return RoleRefused(*match.rule, *identity);
  }
  if (content_length > MaxBodyBytes(match.rule->body, limits)) {
    return BodyRefused(*match.rule, content_length, limits);
  }
  return Status::Ok();
}

Status BodyTooLarge(size_t bytes, const RunLimits& limits) {
  return Status(
      StatusCode::kResourceExhausted,
      "the request body is " + std::to_string(bytes) +
          " bytes; this coordinator accepts at most " +
          std::to_string(limits.MaxBodyBytes()) + " (" +
          FormatBytes(limits.max_plan_bytes) + " of plan, --max-plan-bytes, plus " +
          FormatBytes(limits.max_data_bytes) + " of data file, --max-data-bytes)");
}

std::string Printable(std::string_view text, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_bytes; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    }
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

}  // namespace loadd
