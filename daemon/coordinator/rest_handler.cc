#include "daemon/coordinator/rest_handler.h"

#include <pistache/async.h>
#include <pistache/peer.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "common/log.h"
#include "common/mutex.h"
#include "daemon/coordinator/rest_api.h"
#include "daemon/coordinator/rest_routes.h"

namespace loadd {
namespace {

namespace Http = Pistache::Http;

constexpr char kConnectionData[] = "loadd.connection";

// What a closing connection still reads (and drops) beyond a refused body
// before it shuts reading: enough that a client whose last bytes were
// still on their way reads the answer instead of a reset.
constexpr size_t kLingerBytes = 64 << 10;

}  // namespace

// Per connection, beside Pistache's parser (which the reader owns). The
// reader and `closing` belong to the connection's transport thread; what a
// later answer also touches is under mu.
struct GuardedHandler::Connection {
  Connection(size_t max_request_bytes, HeadersCheck check, Pistache::Address peer)
      : reader(max_request_bytes, std::move(check), std::move(peer)) {}

  RequestReader reader;
  bool closing = false;  // refused, or the client asked: no more requests
  size_t requests = 0;   // answered (or being answered later)
  Mutex mu;
  bool gone GUARDED_BY(mu) = false;        // Pistache is closing the socket
  bool answered GUARDED_BY(mu) = false;    // the last answer is written, writing shut
  size_t linger_bytes GUARDED_BY(mu) = 0;  // to read and drop before shutting reading
};

// The answer of a request dispatched with Defer(). Sends through the
// connection's transport, from whichever thread calls; the connection's
// `gone` (set before Pistache closes the socket) keeps it off a closed or
// reused descriptor.
class GuardedHandler::Later final : public LaterReply {
 public:
  Later(GuardedHandler* handler, Http::Version version,
        const std::shared_ptr<Pistache::Tcp::Peer>& peer,
        const std::shared_ptr<Connection>& connection)
      : handler_(handler),
        transport_(handler->transport()),
        version_(version),
        peer_(peer),
        connection_(connection) {}

  void Send(int code, const std::string& json) override {
    std::shared_ptr<Pistache::Tcp::Peer> peer = peer_.lock();
    std::shared_ptr<Connection> connection = connection_.lock();
    if (peer == nullptr || connection == nullptr) return;
    {
      MutexLock lock(&connection->mu);
      if (connection->gone) return;
      Http::ResponseWriter response(version_, transport_, handler_, peer);
      response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
      if (code == 503) response.headers().add(std::make_shared<RetryAfter>());
      response.setMime(MIME(Application, Json));
      // Under mu: Pistache closes the socket only after onDisconnection,
      // which waits for mu, so the descriptor is this connection's.
      response.send(static_cast<Http::Code>(code), json + "\n");
    }
    CloseAfterAnswer(connection, peer);
  }

 private:
  GuardedHandler* handler_;
  Pistache::Tcp::Transport* transport_;
  Http::Version version_;
  std::weak_ptr<Pistache::Tcp::Peer> peer_;
  std::weak_ptr<Connection> connection_;
};

void GuardedHandler::onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  auto connection =
      std::make_shared<Connection>(getMaxRequestSize(), check_, peer->address());
  // Pistache's timeouts look for the parser under its own key.
  peer->putData(ParserData, connection->reader.parser());
  peer->putData(kConnectionData, connection);
}

void GuardedHandler::onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  std::shared_ptr<Connection> connection =
      std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionData));
  if (connection == nullptr) return;
  MutexLock lock(&connection->mu);
  connection->gone = true;
}

void GuardedHandler::onInput(const char* buffer, size_t len,
                             const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  std::shared_ptr<Connection> connection =
      std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionData));
  if (connection == nullptr) return;  // onConnection made it
  while (len > 0) {
    if (connection->closing) {
      Discard(connection.get(), len, peer);
      return;
    }
    RequestReader::Fed fed = connection->reader.Feed(buffer, len);
    buffer += fed.used_bytes;
    len -= fed.used_bytes;
    if (fed.event == RequestReader::Event::kRefused) {
      Refuse(connection, peer);
    } else if (fed.event == RequestReader::Event::kRequest) {
      Answer(connection, peer);
    }
  }
}

void GuardedHandler::onRequest(const Http::Request& request,
                               Http::ResponseWriter response) {
  // Not used: Answer() calls dispatch_ with the whole call.
  response.send(Http::Code::Internal_Server_Error);
  (void)request;
}

// As Pistache's own Http::Handler::onInput does with a complete request.
void GuardedHandler::Answer(const std::shared_ptr<Connection>& connection,
                            const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  RequestReader& reader = connection->reader;
  const Http::Request& request = reader.request();
  connection->closing = reader.WantsClose();
  bool later = false;
  RestCall call{request, reader.TakeBody(), reader.TakeLease(),
                Http::ResponseWriter(request.version(), transport(), this, peer),
                [&]() -> std::shared_ptr<LaterReply> {
                  later = true;
                  return std::make_shared<Later>(this, request.version(), peer,
                                                 connection);
                }};
  call.response.headers().add<Http::Header::Connection>(
      connection->closing ? Http::ConnectionControl::Close
                          : Http::ConnectionControl::KeepAlive);
  peer->setIdle(false);
  ++connection->requests;
  try {
    dispatch_(&call);
  } catch (const std::exception& e) {
    // The dispatcher turns errors into replies; this is a broken invariant.
    LOG_ERROR("REST: %s %s: unexpected exception: %s",
              Http::methodString(request.method()),
              Printable(request.resource(), 100).c_str(), e.what());
  }
  if (later) {
    // Pistache's parser stays at the request's body (its body timeout runs
    // on) until the connection closes after the later answer.
    connection->closing = true;
    MutexLock lock(&connection->mu);
    connection->linger_bytes = kLingerBytes;
    return;
  }
  reader.Next();
  if (connection->closing) {
    {
      MutexLock lock(&connection->mu);
      connection->linger_bytes = kLingerBytes;
    }
    CloseAfterAnswer(connection, peer);
  }
}

// The refusal as HTTP/1.1 text, as Pistache's ResponseWriter writes it.
std::string RefusalText(const Status& status, const std::string& json) {
  int code = HttpCodeOf(status);
  std::string text = "HTTP/1.1 " + std::to_string(code) + " " +
                     Http::codeString(static_cast<Http::Code>(code)) +
                     "\r\nContent-Type: application/json\r\n";
  if (status.code() == StatusCode::kUnauthenticated)
    text += "WWW-Authenticate: Bearer\r\n";
  if (status.code() == StatusCode::kUnavailable) text += "Retry-After: 1\r\n";
  return text + "Connection: Close\r\nContent-Length: " + std::to_string(json.size()) +
         "\r\n\r\n" + json;
}

void GuardedHandler::Refuse(const std::shared_ptr<Connection>& connection,
                            const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  const Status& status = connection->reader.refusal();
  connection->closing = true;
  size_t linger_bytes = connection->reader.linger_bytes() + kLingerBytes;
  {
    MutexLock lock(&connection->mu);
    connection->linger_bytes = linger_bytes;
  }
  std::string text = RefusalText(status, ErrorJson(status) + "\n");
  size_t sent = 0;
  if (connection->requests == 0 && peer->ssl() == nullptr) {
    // Written at once, on this thread, rather than queued: Pistache writes a
    // queued answer only once its client pauses (see Discard), and a client
    // refused before its body was read is usually still sending it. The
    // connection's first answer, so nothing queued can be overtaken.
    ssize_t n = ::send(peer->fd(), text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) sent = static_cast<size_t>(n);
  }
  if (sent == text.size()) {
    MutexLock lock(&connection->mu);
    connection->answered = true;
    ::shutdown(peer->fd(), SHUT_WR);  // reading is shut after the linger (Discard)
    return;
  }
  // What the socket did not take goes through Pistache's queue.
  peer->send(Pistache::RawBuffer(text.substr(sent), text.size() - sent))
      .then([](ssize_t) {}, Pistache::Async::IgnoreException);
  CloseAfterAnswer(connection, peer);
}

void GuardedHandler::Discard(Connection* connection, size_t len,
                             const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  bool unwritten = false;
  {
    MutexLock lock(&connection->mu);
    if (connection->gone) return;
    unwritten = !connection->answered;
    if (connection->linger_bytes > 0) {
      connection->linger_bytes -= std::min(len, connection->linger_bytes);
      // The transport then reads the end of the stream and closes the
      // connection.
      if (connection->linger_bytes == 0 && connection->answered) {
        ::shutdown(peer->fd(), SHUT_RD);
      }
    }
  }
  // Pistache 0.0.5's transport handles an event that is both readable and
  // writable as readable only, and its edge-triggered poll does not report
  // the writable side again: while a client keeps sending, the answer
  // queued for it would wait until the client stops (a refused 8 MiB body
  // was received whole, and now and then its 503 never left). Each empty
  // write asks the poll for the connection's state once more; once the
  // client pauses, the answer goes out.
  if (unwritten) {
    peer->send(Pistache::RawBuffer("", 0))
        .then([](ssize_t) {}, Pistache::Async::IgnoreException);
  }
}

void GuardedHandler::CloseAfterAnswer(const std::shared_ptr<Connection>& connection,
                                      const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  // The transport writes a connection's buffers in order: this empty one is
  // written once the answer is. Its callback runs on the transport's thread
  // (or on this one, if the write is done before it is attached), and only
  // while the peer is connected.
  std::weak_ptr<Pistache::Tcp::Peer> weak_peer = peer;
  std::weak_ptr<Connection> weak_connection = connection;
  peer->send(Pistache::RawBuffer("", 0))
      .then(
          [weak_peer, weak_connection](ssize_t) {
            std::shared_ptr<Pistache::Tcp::Peer> live = weak_peer.lock();
            std::shared_ptr<Connection> state = weak_connection.lock();
            if (live == nullptr || state == nullptr) return;
            MutexLock lock(&state->mu);
            if (state->gone) return;
            state->answered = true;
            // The client reads the end of the stream. Once reading is shut
            // too, so does the transport, and it closes the connection.
            ::shutdown(live->fd(), state->linger_bytes > 0 ? SHUT_WR : SHUT_RDWR);
          },
          Pistache::Async::IgnoreException);
}

}  // namespace loadd
