// GuardedHandler: Pistache's HTTP handler made safe for untrusted clients.
//
// Pistache 0.0.5 answers its own errors in text, buffers a whole body
// before anyone can look at the headers, and keeps a connection open after
// "Connection: close". This handler replaces its input loop:
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
#ifndef LOADD_DAEMON_COORDINATOR_REST_HANDLER_H_
#define LOADD_DAEMON_COORDINATOR_REST_HANDLER_H_

#include <pistache/http.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "common/status.h"
#include "daemon/coordinator/body_budget.h"
#include "daemon/coordinator/rest_reader.h"

namespace loadd {

// "WWW-Authenticate: Bearer", for 401 answers (Pistache 0.0.5 writes only
// typed headers into responses).
class BearerChallenge final : public Pistache::Http::Header::Header {
 public:
  NAME("WWW-Authenticate")
  void write(std::ostream& os) const override { os << "Bearer"; }
};

// "Retry-After: 1", for 503 answers: the budget of bodies in flight is
// usually free again within a second.
class RetryAfter final : public Pistache::Http::Header::Header {
 public:
  NAME("Retry-After")
  void write(std::ostream& os) const override { os << "1"; }
};

// An answer given later, from any thread. Send at most once; it sends
// nothing when the client has gone. The connection closes after it.
class LaterReply {
 public:
  virtual ~LaterReply() = default;
  virtual void Send(int code, const std::string& json) = 0;
};

// One complete request, as the dispatcher gets it.
struct RestCall {
  const Pistache::Http::Request& request;  // line and headers
  std::string body;
  BodyLease lease;  // the body's reservation, if the headers check made one
  // Answers now; or Defer() gives a LaterReply to answer through instead,
  // and `response` is left unused.
  Pistache::Http::ResponseWriter response;
  std::function<std::shared_ptr<LaterReply>()> defer;
};

// Answers one complete request (the route table's dispatcher, rest_api.cc).
using Dispatch = std::function<void(RestCall* call)>;

class GuardedHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(GuardedHandler)

  GuardedHandler(HeadersCheck check, Dispatch dispatch)
      : check_(std::move(check)), dispatch_(std::move(dispatch)) {}

  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter response) override;

 private:
  struct Connection;

  class Later;

  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  // Runs before Pistache closes the connection's socket: a later answer
  // must not use the descriptor after that.
  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  // Answers a complete request (now or later); closes after it when the
  // client asked, or when it is answered later.
  void Answer(const std::shared_ptr<Connection>& connection,
              const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  // Sends the refusal as a JSON error and closes the connection after it.
  void Refuse(const std::shared_ptr<Connection>& connection,
              const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  // Drops bytes a closing connection receives; shuts its reading side once
  // the refused body has arrived.
  void Discard(Connection* connection, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  // Once what was sent so far is written: shuts the connection down (the
  // writing side only while a refused body is still to be dropped). Any
  // thread.
  static void CloseAfterAnswer(const std::shared_ptr<Connection>& connection,
                               const std::shared_ptr<Pistache::Tcp::Peer>& peer);

  HeadersCheck check_;
  Dispatch dispatch_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_HANDLER_H_
