// The one file that reaches into Pistache 0.0.5's internals (why:
// rest_pistache.h): its parser's private steps (Http::Private), its
// transport's peers and their descriptors, and the peer data key its
// timeouts look for. Requests leave here as RestRequest, answers come in
// as RestResponse.
#include "daemon/coordinator/rest_pistache.h"

#include <pistache/async.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <sys/socket.h>

#include <algorithm>
#include <new>
#include <string>
#include <utility>

#include "common/log.h"
#include "common/mutex.h"
#include "daemon/coordinator/rest_errors.h"
#include "daemon/coordinator/rest_routes.h"

namespace loadd {
namespace {

namespace Http = Pistache::Http;

constexpr char kConnectionData[] = "loadd.connection";

// What a closing connection still reads (and drops) beyond a refused body
// before it shuts reading: enough that a client whose last bytes were
// still on their way reads the answer instead of a reset.
constexpr size_t kLingerBytes = 64 << 10;

// Pistache's request line step; keeps the line it parsed, whose request
// target holds the query as sent (Pistache keeps one value per name).
class KeepingRequestLineStep final : public Http::Private::RequestLineStep {
 public:
  explicit KeepingRequestLineStep(Http::Request* request) : RequestLineStep(request) {}

  Http::Private::State apply(Pistache::StreamCursor& cursor) override {
    size_t start = cursor;
    Http::Private::State state = RequestLineStep::apply(cursor);
    if (state == Http::Private::State::Next) {
      line_.assign(cursor.offset(start), cursor.diff(start));
    }
    return state;
  }

  std::string line_;
};

// Pistache's header step; keeps the block it parsed (the reader checks its
// framing, rest_reader.cc).
class KeepingHeadersStep final : public Http::Private::HeadersStep {
 public:
  explicit KeepingHeadersStep(Http::Message* message) : HeadersStep(message) {}

  Http::Private::State apply(Pistache::StreamCursor& cursor) override {
    size_t start = cursor;
    Http::Private::State state = HeadersStep::apply(cursor);
    if (state == Http::Private::State::Next) {
      block_.assign(cursor.offset(start), cursor.diff(start));
    }
    return state;
  }

  std::string block_;
};

// Pistache's body step reserves the declared size (the Content-Length, or
// each chunk's size) before it reads a byte, and its buffer keeps a second
// copy of every byte fed. This one stays shut: the parser stops at the end
// of the headers, and the reader takes the body itself (one copy, reserved
// at its declared size once the headers are checked). Pistache's parser
// stays at its body step until the request is answered, so its body
// timeout keeps running.
class ClosedBodyStep final : public Http::Private::BodyStep {
 public:
  explicit ClosedBodyStep(Http::Message* message) : BodyStep(message) {}

  Http::Private::State apply(Pistache::StreamCursor& cursor) override {
    early_bytes_ = cursor.remaining();
    return Http::Private::State::Again;
  }

  size_t early_bytes_ = 0;  // bytes fed after the headers
};

StatusCode CodeOfHttp(int http_code) {
  switch (http_code) {
    case 413:
      return StatusCode::kResourceExhausted;
    case 408:
      return StatusCode::kDeadlineExceeded;
    default:
      return StatusCode::kInvalidArgument;
  }
}

// The query of a request line ("GET /p?a=1 HTTP/1.1\r\n"), or "".
std::string_view QueryOfLine(std::string_view line) {
  size_t start = line.find(' ');
  if (start == std::string_view::npos) return "";
  std::string_view target = line.substr(start + 1);
  target = target.substr(0, target.find(' '));
  size_t mark = target.find('?');
  if (mark == std::string_view::npos) return "";
  std::string_view query = target.substr(mark + 1);
  return query.substr(0, query.find('#'));
}

// Pistache's request parser with the keeping line and header steps and the
// closed body step. Pistache's timeouts find it under ParserData.
class GuardedParser final : public Http::RequestParser, public HeadParser {
 public:
  explicit GuardedParser(size_t max_request_bytes) : ParserImpl(max_request_bytes) {
    static_assert(StepsCount == 3, "request line, headers, body");
    auto line = std::make_unique<KeepingRequestLineStep>(&request);
    auto headers = std::make_unique<KeepingHeadersStep>(&request);
    auto body = std::make_unique<ClosedBodyStep>(&request);
    line_ = line.get();
    headers_ = headers.get();
    body_ = body.get();
    allSteps[0] = std::move(line);
    allSteps[1] = std::move(headers);
    allSteps[2] = std::move(body);
  }

  void reset() override {
    ParserImpl::reset();
    line_->line_.clear();
    headers_->block_.clear();
    body_->early_bytes_ = 0;
  }

  bool Feed(std::string_view bytes) override { return feed(bytes.data(), bytes.size()); }

  // Pistache's errors, or a header it could not read, as a refusal.
  Status Parse() override {
    try {
      parse();
    } catch (const Http::HttpError& e) {
      return Status(CodeOfHttp(e.code()),
                    std::string("malformed HTTP request: ") + e.what());
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kResourceExhausted,
                    "the request's Content-Length is too large");
    } catch (const std::exception&) {
      // Pistache's header parsers throw std::invalid_argument, out_of_range,
      // length_error (a negative Content-Length), ...
      return Status(StatusCode::kInvalidArgument,
                    "malformed HTTP request: a header has an invalid value "
                    "(Content-Length must be a number of bytes)");
    }
    return Status::Ok();
  }

  bool AtBody() const override { return currentStep == 2; }
  std::string_view HeaderBlock() const override { return headers_->block_; }
  size_t EarlyBytes() const override { return body_->early_bytes_; }

  RestRequest Head() const override {
    RestRequest head;
    head.method = request.method();
    head.resource = request.resource();
    head.query = ParseQuery(QueryOfLine(line_->line_));
    for (const auto& [name, raw] : request.headers().rawList()) {
      head.headers.push_back({raw.name(), raw.value()});
    }
    return head;
  }

  size_t ContentLength() const override {
    auto header = request.headers().tryGet<Http::Header::ContentLength>();
    return header ? header->value() : 0;
  }

  bool Http10() const override { return request.version() == Http::Version::Http10; }
  void Reset() override { reset(); }

 private:
  KeepingRequestLineStep* line_;
  KeepingHeadersStep* headers_;
  ClosedBodyStep* body_;
};

// A response header by name (Pistache 0.0.5 writes only typed headers).
class NamedHeader final : public Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)),
        value_(std::move(value)),
        hash_(Http::Header::detail::hash(name_.c_str())) {}
  const char* name() const override { return name_.c_str(); }
  uint64_t hash() const override { return hash_; }
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string name_;
  std::string value_;
  uint64_t hash_;
};

// Writes `response` (with the Connection header already set).
void WriteResponse(const RestResponse& response, Http::ResponseWriter& writer) {
  if (!response.content_type.empty()) {
    writer.headers().add(
        std::make_shared<NamedHeader>("Content-Type", response.content_type));
  }
  for (const RestField& h : response.headers) {
    writer.headers().add(std::make_shared<NamedHeader>(h.name, h.value));
  }
  writer.send(static_cast<Http::Code>(response.code), response.body);
}

// Pistache's HTTP handler made safe for untrusted clients (rest_pistache.h).
class GuardedHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(GuardedHandler)

  GuardedHandler(HeadersCheck check, Dispatch dispatch)
      : check_(std::move(check)), dispatch_(std::move(dispatch)) {}

  void onRequest(const Http::Request& request, Http::ResponseWriter response) override;

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

}  // namespace

std::shared_ptr<HeadParser> MakeHeadParser(size_t max_request_bytes) {
  return std::make_shared<GuardedParser>(max_request_bytes);
}

std::shared_ptr<Http::Handler> MakeRestHandler(HeadersCheck check, Dispatch dispatch) {
  return std::make_shared<GuardedHandler>(std::move(check), std::move(dispatch));
}

// Per connection, beside Pistache's parser (which the reader owns). The
// reader and `closing` belong to the connection's transport thread; what a
// later answer also touches is under mu.
struct GuardedHandler::Connection {
  Connection(size_t max_request_bytes, HeadersCheck check, std::string peer)
      : parser(std::make_shared<GuardedParser>(max_request_bytes)),
        reader(max_request_bytes, std::move(check), std::move(peer), parser) {}

  std::shared_ptr<GuardedParser> parser;  // the reader's, for Pistache's timeouts
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

  void Send(const RestResponse& answer) override {
    std::shared_ptr<Pistache::Tcp::Peer> peer = peer_.lock();
    std::shared_ptr<Connection> connection = connection_.lock();
    if (peer == nullptr || connection == nullptr) return;
    {
      MutexLock lock(&connection->mu);
      if (connection->gone) return;
      Http::ResponseWriter response(version_, transport_, handler_, peer);
      response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
      // Under mu: Pistache closes the socket only after onDisconnection,
      // which waits for mu, so the descriptor is this connection's.
      WriteResponse(answer, response);
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
      std::make_shared<Connection>(getMaxRequestSize(), check_, peer->address().host());
  // Pistache's timeouts look for the parser under its own key.
  peer->putData(ParserData, connection->parser);
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
  Http::Version version = connection->parser->request.version();
  connection->closing = reader.WantsClose();
  bool later = false;
  RestCall call{reader.request(), reader.TakeLease(),
                [&]() -> std::shared_ptr<LaterReply> {
                  later = true;
                  return std::make_shared<Later>(this, version, peer, connection);
                }};
  call.request.body = reader.TakeBody();
  peer->setIdle(false);
  ++connection->requests;
  std::optional<RestResponse> answer;
  try {
    answer = dispatch_(&call);
  } catch (const std::exception& e) {
    // The dispatcher turns errors into replies; this is a broken invariant.
    LOG_ERROR("REST: %s %s: unexpected exception: %s",
              Http::methodString(call.request.method),
              Printable(call.request.resource, 100).c_str(), e.what());
  }
  if (later) {
    // Pistache's parser stays at the request's body (its body timeout runs
    // on) until the connection closes after the later answer.
    connection->closing = true;
    MutexLock lock(&connection->mu);
    connection->linger_bytes = kLingerBytes;
    return;
  }
  Http::ResponseWriter response(version, transport(), this, peer);
  response.headers().add<Http::Header::Connection>(
      connection->closing ? Http::ConnectionControl::Close
                          : Http::ConnectionControl::KeepAlive);
  if (answer) {
    WriteResponse(*answer, response);
  } else {
    response.send(Http::Code::Internal_Server_Error);
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
