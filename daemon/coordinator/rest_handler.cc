#include "daemon/coordinator/rest_handler.h"

#include <pistache/peer.h>

#include <new>

#include "common/log.h"
#include "daemon/coordinator/rest_api.h"

namespace loadd {
namespace {

namespace Http = Pistache::Http;

constexpr char kGuardData[] = "loadd.guard";

// Per connection, beside Pistache's parser.
struct GuardState {
  bool checked = false;     // HeadersCheck ran for the request being read
  bool discarding = false;  // a request was refused: drop all further input
  size_t head_bytes = 0;    // bytes fed while the request line and headers are read
};

std::shared_ptr<GuardState> StateOf(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  std::shared_ptr<void> data = peer->tryGetData(kGuardData);
  if (data == nullptr) {
    data = std::make_shared<GuardState>();
    peer->putData(kGuardData, data);
  }
  return std::static_pointer_cast<GuardState>(data);
}

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

// Feeds the bytes to Pistache's parser and parses what it can. An error is
// the refusal to send: Pistache's own errors, a too large request, headers
// past kMaxRestHeaderBytes, or a header it could not read.
Status FeedParser(Http::RequestParser* parser, GuardState* state, const char* buffer,
                  size_t len, size_t max_request_bytes, Http::Private::State* parsed) {
  try {
    if (!parser->feed(buffer, len)) {
      return Status(StatusCode::kResourceExhausted,
                    "the request is larger than this coordinator's limit of " +
                        std::to_string(max_request_bytes) + " bytes (body and headers)");
    }
    *parsed = parser->parse();
  } catch (const Http::HttpError& e) {
    return Status(CodeOfHttp(e.code()),
                  std::string("malformed HTTP request: ") + e.what());
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted,
                  "the request's Content-Length is too large");
  } catch (const std::exception& e) {
    // Pistache's header parsers throw std::invalid_argument, out_of_range,
    // length_error (a negative Content-Length), ...
    return Status(StatusCode::kInvalidArgument,
                  "malformed HTTP request: a header has an invalid value (Content-Length "
                  "must be a number of bytes)");
  }
  bool in_head = *parsed != Http::Private::State::Done &&
                 parser->step()->id() != Http::Private::BodyStep::Id;
  if (in_head && (state->head_bytes += len) > kMaxRestHeaderBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "the request line and headers are larger than " +
                      std::to_string(kMaxRestHeaderBytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

void GuardedRouterHandler::onInput(const char* buffer, size_t len,
                                   const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  std::shared_ptr<GuardState> state = StateOf(peer);
  if (state->discarding) return;
  std::shared_ptr<Http::RequestParser> parser = getParser(peer);
  Http::Request& request = parser->request;
  Http::Private::State parsed = Http::Private::State::Again;
  Status fed =
      FeedParser(parser.get(), state.get(), buffer, len, getMaxRequestSize(), &parsed);
  if (!fed.ok()) {
    Refuse(fed, request.version(), peer);
  } else if (parsed == Http::Private::State::Done) {
    Dispatch(peer);
    *state = GuardState{};
  } else if (!state->checked && check_ &&
             parser->step()->id() == Http::Private::BodyStep::Id) {
    state->checked = true;
    request.copyAddress(peer->address());
    auto content_length = request.headers().tryGet<Http::Header::ContentLength>();
    Status verdict = check_(request, content_length ? content_length->value() : 0);
    if (!verdict.ok()) Refuse(verdict, request.version(), peer);
  }
}

// As Pistache's own Http::Handler::onInput does with a complete request.
void GuardedRouterHandler::Dispatch(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  std::shared_ptr<Http::RequestParser> parser = getParser(peer);
  Http::Request& request = parser->request;
  Http::ResponseWriter response(request.version(), transport(), this, peer);
  request.copyAddress(peer->address());
  auto connection = request.headers().tryGet<Http::Header::Connection>();
  response.headers().add<Http::Header::Connection>(
      connection ? connection->control() : Http::ConnectionControl::Close);
  peer->setIdle(false);
  try {
    onRequest(request, std::move(response));
  } catch (const std::exception& e) {
    // Route handlers turn errors into replies; this is a broken invariant.
    LOG_ERROR("REST: %s %s: unexpected exception: %s",
              Http::methodString(request.method()), request.resource().c_str(), e.what());
  }
  parser->reset();
}

void GuardedRouterHandler::Refuse(const Status& status, Http::Version version,
                                  const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  StateOf(peer)->discarding = true;
  getParser(peer)->reset();
  Http::ResponseWriter response(version, transport(), this, peer);
  response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
  if (status.code() == StatusCode::kUnauthenticated) {
    response.headers().add(std::make_shared<BearerChallenge>());
  }
  response.setMime(MIME(Application, Json));
  response.send(static_cast<Http::Code>(HttpCodeOf(status)), ErrorJson(status) + "\n");
}

}  // namespace loadd
