#include "daemon/coordinator/rest_handler.h"

#include <pistache/async.h>
#include <pistache/peer.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "common/log.h"
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

// Per connection, beside Pistache's parser (which the reader owns).
struct GuardedHandler::Connection {
  Connection(size_t max_request_bytes, HeadersCheck check, Pistache::Address peer)
      : reader(max_request_bytes, std::move(check), std::move(peer)) {}

  RequestReader reader;
  bool closing = false;     // refused, or the client asked: no more requests
  bool answered = false;    // the last answer is written, the writing side shut
  size_t linger_bytes = 0;  // to read and drop before shutting reading
};

void GuardedHandler::onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  auto connection =
      std::make_shared<Connection>(getMaxRequestSize(), check_, peer->address());
  // Pistache's timeouts look for the parser under its own key.
  peer->putData(ParserData, connection->reader.parser());
  peer->putData(kConnectionData, connection);
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
      Refuse(connection.get(), peer);
      CloseAfterAnswer(connection, peer);
    } else if (fed.event == RequestReader::Event::kRequest) {
      Answer(connection.get(), peer);
      if (connection->closing) {
        connection->linger_bytes = kLingerBytes;
        CloseAfterAnswer(connection, peer);
      }
    }
  }
}

void GuardedHandler::onRequest(const Http::Request& request,
                               Http::ResponseWriter response) {
  dispatch_(request, std::move(response));
}

// As Pistache's own Http::Handler::onInput does with a complete request.
void GuardedHandler::Answer(Connection* connection,
                            const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  const Http::Request& request = connection->reader.request();
  connection->closing = connection->reader.WantsClose();
  Http::ResponseWriter response(request.version(), transport(), this, peer);
  response.headers().add<Http::Header::Connection>(
      connection->closing ? Http::ConnectionControl::Close
                          : Http::ConnectionControl::KeepAlive);
  peer->setIdle(false);
  try {
    onRequest(request, std::move(response));
  } catch (const std::exception& e) {
    // The dispatcher turns errors into replies; this is a broken invariant.
    LOG_ERROR("REST: %s %s: unexpected exception: %s",
              Http::methodString(request.method()),
              Printable(request.resource(), 100).c_str(), e.what());
  }
  connection->reader.Next();
}

void GuardedHandler::Refuse(Connection* connection,
                            const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  const Status& status = connection->reader.refusal();
  connection->closing = true;
  connection->linger_bytes = connection->reader.linger_bytes() + kLingerBytes;
  Http::ResponseWriter response(connection->reader.request().version(), transport(), this,
                                peer);
  response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
  if (status.code() == StatusCode::kUnauthenticated) {
    response.headers().add(std::make_shared<BearerChallenge>());
  }
  response.setMime(MIME(Application, Json));
  response.send(static_cast<Http::Code>(HttpCodeOf(status)), ErrorJson(status) + "\n");
}

void GuardedHandler::Discard(Connection* connection, size_t len,
                             const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  if (connection->linger_bytes == 0) return;
  connection->linger_bytes -= std::min(len, connection->linger_bytes);
  // The transport then reads the end of the stream and closes the connection.
  if (connection->linger_bytes == 0 && connection->answered) {
    ::shutdown(peer->fd(), SHUT_RD);
  }
}

void GuardedHandler::CloseAfterAnswer(const std::shared_ptr<Connection>& connection,
                                      const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  // The transport writes a connection's buffers in order: this empty one is
  // written once the answer is. Its callback runs on the transport's
  // thread, as onInput does, and only while the peer is connected.
  std::weak_ptr<Pistache::Tcp::Peer> weak_peer = peer;
  std::weak_ptr<Connection> weak_connection = connection;
  peer->send(Pistache::RawBuffer("", 0))
      .then(
          [weak_peer, weak_connection](ssize_t) {
            std::shared_ptr<Pistache::Tcp::Peer> live = weak_peer.lock();
            std::shared_ptr<Connection> state = weak_connection.lock();
            if (live == nullptr || state == nullptr) return;
            state->answered = true;
            // The client reads the end of the stream. Once reading is shut
            // too, so does the transport, and it closes the connection.
            ::shutdown(live->fd(), state->linger_bytes > 0 ? SHUT_WR : SHUT_RDWR);
          },
          Pistache::Async::IgnoreException);
}

}  // namespace loadd
