// What `loadd target` answers for each request line: a pure function of the
// URL, so the route table is testable without sockets.
//
// Paths (any method):
//   /__stats            JSON counters (built by the caller when it is sent)
//   /__reset            zero the counters
//   /delay/<duration>   answer after that long (units of ParseDurationNs)
//   /bytes/<size>       a body of that many filler bytes (ParseSizeBytes)
//   anything else       200 "ok\n"
// Query parameters on any path: status=NNN (200..599), size=<size>,
// delay=<duration>, stall_every=<duration>&stall_for=<duration> (a target
// that stops answering: a request arriving inside the first `stall_for` of
// every `stall_every` period, on CLOCK_MONOTONIC, is held until that window
// ends, then gets its own delay). A value that does not parse answers 400; a delay above
// kMaxDelayNs or a size above kMaxBodyBytes is clamped to the maximum.
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
  int64_t stall_every_ns = 0;  // 0: no stall windows
  int64_t stall_for_ns = 0;
};

// Extra wait for a request arriving at now_ns (monotonic) under the route's
// stall windows; 0 outside them.
int64_t StallDelayNs(const Route& route, int64_t now_ns);

// `url` is the request target as sent: origin form ("/a?b=1"), absolute form
// ("http://host/a") or "*". A fragment, if any, is ignored.
Route RouteRequest(std::string_view url);

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_ROUTES_H_
