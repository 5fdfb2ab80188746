// What `loadd target` answers. Built-in paths are a pure function of the URL
// (RouteRequest below), so the route table is testable without sockets; the
// demo API paths (target_api.h) also read the method, two headers and the
// body, and keep state in a per-process store. docs/target.md has curl
// examples for every route.
//
// Built-in paths (any method):
//   /__stats            JSON counters (built by the caller when it is sent)
//   /__reset            zero the counters
//   /delay/<duration>   answer after that long (units of ParseDurationNs)
//   /bytes/<size>       a body of that many filler bytes (ParseSizeBytes)
//   anything else       200 "ok\n", unless it is a demo API path below
// Query parameters on any built-in path: status=NNN (200..599), size=<size>,
// delay=<duration>, stall_every=<duration>&stall_for=<duration> (a target
// that stops answering: a request arriving inside the first `stall_for` of
// every `stall_every` period, on CLOCK_MONOTONIC, is held until that window
// ends, then gets its own delay). A value that does not parse answers 400; a delay above
// kMaxDelayNs or a size above kMaxBodyBytes is clamped to the maximum.
//
// Demo API (JSON bodies, Content-Type: application/json; "auth" means
// "Authorization: Bearer <token from /login>" is required, else 401):
//   POST   /login          {"user": U, "password": "secret"} -> 200 {"token", "user"};
//                          another password -> 401; not such an object -> 400
//   GET    /me             auth -> 200 {"user": U}
//   POST   /items          auth; a JSON object body -> 201 {"id": N, "item": body}; 400
//   GET    /items/{id}     auth -> 200 {"id": N, "item": body}; 404
//   PUT    /items/{id}     auth; a JSON object body -> 200 {"id", "item"}; 404; 400
//   DELETE /items/{id}     auth -> 204; 404
//   POST|PUT|PATCH /echo   200, the request body and its Content-Type sent back
//   other  /echo           200 {"method", "path", "query", "headers": {name: value}}
//   GET    /products       200 [{"id", "name", "price"}] (20 products, ids 1..20)
//   GET    /products/{id}  200 {"id", "name", "price"} or 404
//   POST   /cart           auth; {"product": 1..20} -> 200 {"cart_items": n}; 400; 404
//   POST   /checkout       auth -> 200 {"order": N}, the cart emptied; empty -> 409
// A known API path with another method answers 405. HEAD is GET without the
// body. Query parameters do not apply to the API paths.
#ifndef LOADD_DAEMON_TARGET_TARGET_ROUTES_H_
#define LOADD_DAEMON_TARGET_TARGET_ROUTES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace loadd {

constexpr int64_t kMaxDelayNs = 60 * kNsPerSec;
constexpr int64_t kMaxBodyBytes = int64_t{16} * 1024 * 1024;

enum class RouteKind {
  kPlain,  // status, delay and body below say everything
  kStats,  // body is the stats JSON, built when the response is sent
  kReset,  // reset the counters when the response is sent, body "reset\n"
};

struct Route {
  RouteKind kind = RouteKind::kPlain;
  int status = 200;
  int64_t delay_ns = 0;
  // >= 0: the body is that many filler bytes; -1: the body is `text`.
  int64_t fill_bytes = -1;
  std::string text = "ok\n";
  std::string content_type = "text/plain";  // of `text` (or the filler)
  int64_t stall_every_ns = 0;               // 0: no stall windows
  int64_t stall_for_ns = 0;
  std::string set_cookie;  // a Set-Cookie header value; empty: none
};

// Extra wait for a request arriving at now_ns (monotonic) under the route's
// stall windows; 0 outside them.
int64_t StallDelayNs(const Route& route, int64_t now_ns);

// A request target split at '?', without its fragment; absolute form
// ("http://host/a?b") loses its scheme and authority. Views into `url`.
struct UrlParts {
  std::string_view path;
  std::string_view query;
};
UrlParts SplitRequestUrl(std::string_view url);

// `url` is the request target as sent: origin form ("/a?b=1"), absolute form
// ("http://host/a") or "*". A fragment, if any, is ignored.
Route RouteRequest(std::string_view url);

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_ROUTES_H_
