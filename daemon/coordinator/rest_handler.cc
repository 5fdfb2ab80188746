#include "daemon/coordinator/rest_handler.h"

#include <pistache/peer.h>

#include <new>
#include <optional>
#include <string>

#include "common/log.h"
#include "daemon/coordinator/rest_api.h"

namespace loadd {
namespace {

namespace Http = Pistache::Http;

constexpr char kGuardData[] = "loadd.guard";

// Per connection, beside Pistache's parser.
struct GuardState {
  bool discarding = false;  // a request was refused: drop all further input
  size_t head_bytes = 0;    // bytes fed while the request line and headers are read
};

// Pistache's body step reserves the declared size (the Content-Length, or
// each chunk's size) before it reads a byte, so a 100 GB Content-Length
// asks the allocator for 100 GB. This one stays shut (the parser waits)
// until the handler has checked the headers and opened it.
class GatedBodyStep final : public Http::Private::BodyStep {
 public:
  explicit GatedBodyStep(Http::Message* message) : BodyStep(message) {}

  Http::Private::State apply(Pistache::StreamCursor& cursor) override {
    if (!open_) return Http::Private::State::Again;
    return BodyStep::apply(cursor);
  }

  bool open_ = false;
};

// Pistache's request parser with the gated body step.
class GuardedParser final : public Http::RequestParser {
 public:
  explicit GuardedParser(size_t max_request_bytes) : ParserImpl(max_request_bytes) {
    static_assert(StepsCount == 3, "request line, headers, body");
    auto body = std::make_unique<GatedBodyStep>(&request);
    body_ = body.get();
    allSteps[2] = std::move(body);
  }

  void reset() override {
    ParserImpl::reset();
    body_->open_ = false;
  }

  // The request line and headers are in; the body waits for OpenBody().
  bool AtClosedBody() const { return currentStep == 2 && !body_->open_; }
  void OpenBody() { body_->open_ = true; }

 private:
  GatedBodyStep* body_;
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

Status TooLarge(size_t max_request_bytes) {
  return Status(StatusCode::kResourceExhausted,
                "the request is larger than this coordinator's limit of " +
                    std::to_string(max_request_bytes) + " bytes (body and headers)");
}

// Parses what Pistache's parser holds. An error is the refusal to send:
// Pistache's own errors, or a header it could not read.
Status Parse(Http::RequestParser* parser, Http::Private::State* parsed) {
  try {
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
  return Status::Ok();
}

// Feeds the bytes to Pistache's parser and parses what it can. An error is
// the refusal to send: a too large request, headers past
// kMaxRestHeaderBytes, or Parse's errors.
Status FeedParser(Http::RequestParser* parser, GuardState* state, const char* buffer,
                  size_t len, size_t max_request_bytes, Http::Private::State* parsed) {
  if (!parser->feed(buffer, len)) return TooLarge(max_request_bytes);
  LOADD_RETURN_IF_ERROR(Parse(parser, parsed));
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
  // onConnection made it.
  auto* guarded = static_cast<GuardedParser*>(parser.get());
  Http::Request& request = parser->request;
  Http::Private::State parsed = Http::Private::State::Again;
  Status fed =
      FeedParser(parser.get(), state.get(), buffer, len, getMaxRequestSize(), &parsed);
  if (fed.ok() && guarded->AtClosedBody()) {
    request.copyAddress(peer->address());
    fed = CheckHeaders(request);
    if (fed.ok()) {
      guarded->OpenBody();
      fed = Parse(parser.get(), &parsed);
    }
  }
  if (!fed.ok()) {
    Refuse(fed, request.version(), peer);
  } else if (parsed == Http::Private::State::Done) {
    Dispatch(peer);
    *state = GuardState{};
  }
}

void GuardedRouterHandler::onConnection(
    const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  // What Pistache's Http::Handler::onConnection does, with the gated parser.
  std::shared_ptr<Http::RequestParser> parser =
      std::make_shared<GuardedParser>(getMaxRequestSize());
  peer->putData(ParserData, parser);
}

Status GuardedRouterHandler::CheckHeaders(const Http::Request& request) const {
  auto content_length = request.headers().tryGet<Http::Header::ContentLength>();
  // Digits, then optional white space: Pistache reads "-5" as 2^64 - 5.
  std::optional<Http::Header::Raw> raw = request.headers().tryGetRaw("Content-Length");
  if (raw) {
    std::string value = raw->value();
    size_t digits = value.find_first_not_of("0123456789");
    if (digits == 0 || (digits != std::string::npos &&
                        value.find_first_not_of(" \t", digits) != std::string::npos)) {
      return Status(
          StatusCode::kInvalidArgument,
          "malformed HTTP request: a header has an invalid value (Content-Length "
          "must be a number of bytes)");
    }
  }
  if (check_) {
    LOADD_RETURN_IF_ERROR(check_(request, content_length ? content_length->value() : 0));
  }
  if (request.headers().has<Http::Header::TransferEncoding>()) {
    // Pistache would reserve each chunk's declared size before reading it.
    return Status(StatusCode::kInvalidArgument,
                  "a request body sent with Transfer-Encoding is not accepted: send it "
                  "with a Content-Length header instead");
  }
  if (content_length && content_length->value() > getMaxRequestSize()) {
    return TooLarge(getMaxRequestSize());
  }
  return Status::Ok();
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
