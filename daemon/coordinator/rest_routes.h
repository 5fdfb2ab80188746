// The coordinator's REST routes as one table (kRoutes): method, path, who
// may call it and how much body it reads.
//
// The same table decides twice, by the same function (AdmitRequest): when
// a request's line and headers are in, before any byte of its body is read
// (rest_reader.h), and when the complete request is dispatched
// (rest_api.cc). So which routes are open is written in one place.
//
// Paths are matched as Pistache's router matches them: runs of '/' count
// as one, a leading or trailing '/' is ignored, ":name" matches one
// segment. Nothing is percent-decoded.
#ifndef LOADD_DAEMON_COORDINATOR_REST_ROUTES_H_
#define LOADD_DAEMON_COORDINATOR_REST_ROUTES_H_

#include <pistache/http_defs.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "daemon/coordinator/auth.h"
#include "daemon/coordinator/limits.h"
#include "daemon/coordinator/rest_exchange.h"

namespace loadd {

enum class RouteId {
  kHealth,
  kDashboard,
  kDashboardFile,
  kWorkers,
  kRuns,
  kCreateRun,
  kRun,
  kRunHlog,
  kStopRun,
  kScaleRun,
  kMetrics,
  kCompare,
};

enum class RouteAccess {
  kToken,                // needs the bearer token
  kOpen,                 // anyone: holds no data
  kOpenIfDashboardFile,  // anyone when ":file" names an embedded dashboard file
};

enum class RouteBody {
  kNone,   // a request with a body is refused (413) before it is read
  kSmall,  // up to kSmallBodyBytes, read and ignored (loadctl sends "{}")
  kJson,   // up to kSmallBodyBytes of JSON, read (live scaling's {"users": N})
  kPlan,   // a plan: up to RunLimits::MaxBodyBytes()
};

inline constexpr size_t kSmallBodyBytes = 1024;

// The least role (tokens.h) a route needs once the token is known.
enum class RouteRole {
  kRead,  // every role (open routes too)
  // runner or admin; a route with a run ":id" lets a runner act only on the
  // runs it started (rest_api.cc checks the owner): stop and scale.
  kOwnRun,
  kAdmin,  // admin only
};

struct RouteRule {
  RouteId id;
  Pistache::Http::Method method;
  const char* path;
  RouteAccess access;
  RouteBody body;
  RouteRole role;
};

inline constexpr RouteRule kRoutes[] = {
    {RouteId::kHealth, Pistache::Http::Method::Get, "/healthz", RouteAccess::kOpen,
     RouteBody::kNone, RouteRole::kRead},
    // The web dashboard (static_files.h): no data, so no token.
    {RouteId::kDashboard, Pistache::Http::Method::Get, "/", RouteAccess::kOpen,
     RouteBody::kNone, RouteRole::kRead},
    {RouteId::kDashboardFile, Pistache::Http::Method::Get, "/ui/:file",
     RouteAccess::kOpenIfDashboardFile, RouteBody::kNone, RouteRole::kRead},
    {RouteId::kWorkers, Pistache::Http::Method::Get, "/v1/workers", RouteAccess::kToken,
     RouteBody::kNone, RouteRole::kRead},
    {RouteId::kRuns, Pistache::Http::Method::Get, "/v1/runs", RouteAccess::kToken,
     RouteBody::kNone, RouteRole::kRead},
    {RouteId::kCreateRun, Pistache::Http::Method::Post, "/v1/runs", RouteAccess::kToken,
     RouteBody::kPlan, RouteRole::kOwnRun},
    {RouteId::kRun, Pistache::Http::Method::Get, "/v1/runs/:id", RouteAccess::kToken,
     RouteBody::kNone, RouteRole::kRead},
    {RouteId::kRunHlog, Pistache::Http::Method::Get, "/v1/runs/:id/hlog",
     RouteAccess::kToken, RouteBody::kNone, RouteRole::kRead},
    {RouteId::kStopRun, Pistache::Http::Method::Post, "/v1/runs/:id/stop",
     RouteAccess::kToken, RouteBody::kSmall, RouteRole::kOwnRun},
    // Live scaling: {"users": N} or {"rate": R} (scale_request.h).
    {RouteId::kScaleRun, Pistache::Http::Method::Patch, "/v1/runs/:id",
     RouteAccess::kToken, RouteBody::kJson, RouteRole::kOwnRun},
    // Prometheus text format (metrics.h).
    {RouteId::kMetrics, Pistache::Http::Method::Get, "/metrics", RouteAccess::kToken,
     RouteBody::kNone, RouteRole::kRead},
    // Two runs compared with statistics (compare_view.h, docs/compare.md).
    {RouteId::kCompare, Pistache::Http::Method::Get, "/v1/compare", RouteAccess::kToken,
     RouteBody::kNone, RouteRole::kRead},
};

struct RouteMatch {
  const RouteRule* rule = nullptr;  // null: no route answers this method and path
  std::string param;                // the segment ":name" matched, if any
  std::string methods;  // without a rule: the methods the path answers ("GET"), or ""
};

RouteMatch MatchRoute(Pistache::Http::Method method, std::string_view resource);

// The refusal for `request` (its line and headers; the body is not read)
// to `match`, or OK. In this order: without a
// known token, a route that is not open, no route (unknown paths tell
// strangers nothing) or any body (content_length > 0) is 401; no route is
// 404 (its message names the methods the path answers); a token whose role
// is below the route's is 403 (naming both); a body the route does not
// read is 413, and so is a plan larger than limits.MaxBodyBytes().
// *who (if given) is set to the token's owner when one was recognised.
Status AdmitRequest(const RouteMatch& match, const RestRequest& request,
                    size_t content_length, const BearerAuth& auth,
                    const RunLimits& limits, std::optional<TokenIdentity>* who = nullptr);

// Whether `role` may call a route that needs `needed`.
bool RoleAllows(Role role, RouteRole needed);

// 413 for a plan of `bytes` over limits.MaxBodyBytes(), naming both limits.
Status BodyTooLarge(size_t bytes, const RunLimits& limits);

// `text` with every byte outside printable ASCII shown as \xHH, at most
// max_bytes of it (then "..."): for logs and messages that quote a request.
std::string Printable(std::string_view text, size_t max_bytes);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_ROUTES_H_
