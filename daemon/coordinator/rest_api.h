// RestApi: the coordinator's REST API (docs/rest-api.md) on Pistache.
//
// Routes are a table (kRoutes, rest_routes.h) that says which are open and
// how much body each reads; every handler returns JSON or a Status, and one
// function (HttpCodeOf) maps a Status to the HTTP code of the error reply,
// whose text is always valid UTF-8. Every route but GET /healthz and the
// dashboard's files needs the bearer token (BearerAuth), checked before a
// body is read; a plan must pass the operator limits (LiveLimits) before
// anything happens. Clients that stall are cut off by the header, body and
// idle timeouts (rest_pistache.h).
#ifndef LOADD_DAEMON_COORDINATOR_REST_API_H_
#define LOADD_DAEMON_COORDINATOR_REST_API_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "daemon/coordinator/auth.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/limits.h"
#include "daemon/coordinator/rest_errors.h"
#include "daemon/coordinator/rest_exchange.h"

namespace Pistache::Http {
class Endpoint;
}

namespace loadd {

class AuditLog;

// The `since` query parameter of GET /v1/runs/{id}: the first timeline
// second wanted, a whole number from 0 (absent: 0). A refusal names it.
Result<int64_t> ParseSince(const std::optional<std::string>& value);

struct RestOptions {
  std::string address = "127.0.0.1:8089";  // HOST:PORT
  int threads = 2;
  // HTTPS when tls_cert_file is set; with tls_ca_file, clients must also
  // present a certificate signed by that CA.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  int64_t header_timeout_ms = 10'000;  // request line and headers must arrive within
  int64_t body_timeout_ms = 30'000;    // the body must arrive within
  int64_t idle_timeout_ms = 30'000;    // an idle keep-alive connection is closed after
  // The largest body Pistache buffers, fixed while serving. Usually
  // RunLimits::MaxBodyBytes() at start; the live limit may be lower.
  size_t max_body_bytes = size_t{9} << 20;
};

class RestApi {
 public:
  // Not owned; all must outlive the API. audit: where starts, stops and
  // refusals are recorded (null: nowhere).
  RestApi(Coordinator* coordinator, const BearerAuth* auth, const LiveLimits* limits,
          const Clock* clock = RealClock::Get(), AuditLog* audit = nullptr);
  ~RestApi();

  // Answers one complete request on the caller's thread: the route table's
  // verdict (token, route, body size), then the route's handler (a plan is
  // parsed here). What Serve() answers, without a socket; Serve() parses
  // plans on the intake's thread instead, and refuses bodies past the
  // budget before they are read.
  RestResponse Handle(const RestRequest& request);

  // Serves on background threads until Shutdown(). Errors name the flag at
  // fault (--rest, --rest-tls-cert, ...).
  Status Serve(const RestOptions& options);
  void Shutdown();

  struct Context;  // what route handlers see (rest_api.cc)

 private:
  std::unique_ptr<Context> context_;
  std::shared_ptr<Pistache::Http::Endpoint> endpoint_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_API_H_
