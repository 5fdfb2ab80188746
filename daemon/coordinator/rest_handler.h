// GuardedRouterHandler: Pistache's REST router handler with its HTTP
// layer made safe for untrusted clients.
//
// Pistache 0.0.5 answers its own errors in text, keeps parsing after a
// refused request (the rest of an oversized body is read as new requests)
// and buffers a whole body before anyone can look at the headers. This
// handler replaces its input loop:
//   - once a request's headers are in, HeadersCheck may refuse it (missing
//     token, declared body too large) before the body is read, and nothing
//     of the body is read (or allocated) before that; a body with a
//     Transfer-Encoding (chunked) is refused, one declared larger than the
//     endpoint's maxRequestSize too;
//   - an oversized, malformed or refused request gets a JSON error
//     (ErrorJson) and the rest of the connection's input is discarded until
//     the client closes it or the idle timeout does;
// Everything else is Pistache's: routing, keep-alive, and the header, body
// and idle timeouts (its transport answers a bare 408 and closes the
// connection; a connection in discard mode closes at the idle timeout).
#ifndef LOADD_DAEMON_COORDINATOR_REST_HANDLER_H_
#define LOADD_DAEMON_COORDINATOR_REST_HANDLER_H_

#include <pistache/http.h>
#include <pistache/router.h>

#include <functional>
#include <memory>
#include <ostream>

#include "common/status.h"

namespace loadd {

// "WWW-Authenticate: Bearer", for 401 answers (Pistache 0.0.5 writes only
// typed headers into responses).
class BearerChallenge final : public Pistache::Http::Header::Header {
 public:
  NAME("WWW-Authenticate")
  void write(std::ostream& os) const override { os << "Bearer"; }
};

// Called when a request's line and headers are in and its body is not;
// content_length is 0 when there is no Content-Length. An error is sent as
// the reply.
using HeadersCheck =
    std::function<Status(const Pistache::Http::Request& request, size_t content_length)>;

class GuardedRouterHandler : public Pistache::Rest::Private::RouterHandler {
 public:
  HTTP_PROTOTYPE(GuardedRouterHandler)

  GuardedRouterHandler(std::shared_ptr<Pistache::Rest::Router> router, HeadersCheck check)
      : RouterHandler(std::move(router)), check_(std::move(check)) {}

 private:
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  // Runs when the request's headers are in, before any of its body is read.
  Status CheckHeaders(const Pistache::Http::Request& request) const;
  // Answers a complete request through the router.
  void Dispatch(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  // Sends the error and discards the rest of the connection's input.
  void Refuse(const Status& status, Pistache::Http::Version version,
              const std::shared_ptr<Pistache::Tcp::Peer>& peer);

  HeadersCheck check_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_HANDLER_H_
