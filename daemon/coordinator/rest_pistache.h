// The REST server's Pistache side: the one place (rest_pistache.cc) that
// reaches into Pistache's internals. Everything else in the REST layer
// speaks plain values (RestRequest and RestResponse, rest_exchange.h): the
// reader (rest_reader.h), the route table (rest_routes.h) and the handlers
// (rest_api.h), which are tested without a socket.
//
// Why internals at all: Pistache 0.0.5 answers its own errors in text,
// buffers a whole body before anyone can look at the headers, reserves a
// body's declared size before reading it, and keeps a connection open
// after "Connection: close". So its parser gets two steps of ours (one
// that keeps the header block, one that stops at the body), and its input
// loop is replaced by MakeRestHandler's:
//   - each connection's bytes go through a RequestReader (rest_reader.h),
//     which checks a request's line and headers (HeadersCheck) before any
//     of its body is read;
//   - a refused request gets a JSON error (ErrorJson) with
//     "Connection: close";
//   - a complete request goes to `dispatch`; "Connection: close", or an
//     HTTP/1.0 request without keep-alive, closes after the answer;
//   - the dispatcher may answer later, from another thread (a plan is
//     parsed on the plan intake's thread, plan_intake.h, so that no REST
//     thread is busy parsing while /healthz waits): the connection reads no
//     further request and closes after that answer.
// Closing: once the answer is written the writing side is shut (the client
// reads the end of the stream); what the client still sends is read and
// dropped, never kept, up to kLingerBytes plus the rest of a refused body
// the reader says is worth waiting for (a token holder's), then reading is
// shut too and the transport closes the connection. The client closing
// first, or Pistache's header timeout, closes it earlier.
// Pistache keeps the header, body and idle timeouts (its transport answers
// a bare 408 and closes the connection).
//
// Pistache's public API (Endpoint and its options, TLS) is used where it
// is configured: RestApi::Serve (rest_api.cc) and rest_tls.cc.
#ifndef LOADD_DAEMON_COORDINATOR_REST_PISTACHE_H_
#define LOADD_DAEMON_COORDINATOR_REST_PISTACHE_H_

#include <functional>
#include <memory>
#include <optional>

#include "daemon/coordinator/body_budget.h"
#include "daemon/coordinator/rest_exchange.h"
#include "daemon/coordinator/rest_reader.h"

namespace Pistache::Http {
class Handler;
}

namespace loadd {

// An answer given later, from any thread. Send at most once; it sends
// nothing when the client has gone. The connection closes after it.
class LaterReply {
 public:
  virtual ~LaterReply() = default;
  virtual void Send(const RestResponse& response) = 0;
};

// One complete request, as the dispatcher gets it.
struct RestCall {
  RestRequest request;  // with its body
  BodyLease lease;      // the body's reservation, if the headers check made one
  // Gives a LaterReply to answer through instead; the dispatcher then
  // returns nullopt.
  std::function<std::shared_ptr<LaterReply>()> defer;
};

// Answers one complete request now, or nullopt after call->defer().
using Dispatch = std::function<std::optional<RestResponse>(RestCall* call)>;

// The handler to give Pistache's Endpoint (setHandler): requests read by a
// RequestReader checked by `check`, answered by `dispatch`.
std::shared_ptr<Pistache::Http::Handler> MakeRestHandler(HeadersCheck check,
                                                         Dispatch dispatch);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_PISTACHE_H_
