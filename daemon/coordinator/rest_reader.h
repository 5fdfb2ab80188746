// RequestReader: one connection's HTTP requests, with each request's line
// and headers checked before any byte of its body is read. It speaks plain
// values (RestRequest, rest_exchange.h); the line and headers are parsed by
// a HeadParser, which is Pistache's parser (rest_pistache.cc, the one file
// that reaches into Pistache's internals).
//
// Pistache 0.0.5 buffers every byte it is fed, reserves a body's declared
// size before reading it, and takes the first of two Content-Length
// headers. The reader feeds it at most kFeedBytes at a time and stops at
// the end of the headers until they are checked, so before the check it
// holds the request line and headers plus at most kFeedBytes of what
// followed them. Its own checks come first (400 unless said otherwise):
//   - the request target is a path ('/' first) of at most kMaxRestPathBytes;
//   - header names are tokens (no space before the ':', no control bytes);
//   - at most one Content-Length, digits only; no Transfer-Encoding (send a
//     Content-Length instead);
//   - the line and headers fit kMaxRestHeaderBytes (413), the request
//     max_request_bytes (413);
// then the HeadersCheck (the route table's: token, route, body size; for a
// plan, a reservation of the body budget, body_budget.h, which the reader
// keeps until the request is answered or refused, or the reader is
// destroyed with its connection).
//
// Once the headers pass, the reader takes the body itself, in one buffer
// reserved at the declared Content-Length: a request of n body bytes costs
// n bytes and its headers (Pistache's parser would keep a second copy).
//
// No sockets: the REST server (rest_pistache.h) feeds it what a connection
// receives; tests and the fuzz target feed it bytes. Not thread-safe (one
// connection is served by one thread).
#ifndef LOADD_DAEMON_COORDINATOR_REST_READER_H_
#define LOADD_DAEMON_COORDINATOR_REST_READER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "daemon/coordinator/body_budget.h"
#include "daemon/coordinator/rest_exchange.h"

namespace loadd {

// Headers of a request may use this much beyond its body.
inline constexpr size_t kMaxRestHeaderBytes = 64 << 10;
// The longest request path (the part before '?').
inline constexpr size_t kMaxRestPathBytes = 2048;
// The most bytes given to Pistache's parser at once.
inline constexpr size_t kFeedBytes = 4096;

// Called when a request's line and headers are in (`request`, its body
// empty) and none of its body has been read; content_length is 0 when there
// is no Content-Length. An error refuses the request. It may reserve the
// body's bytes into *lease, which the reader holds for the request (and
// drops on a refusal).
using HeadersCheck = std::function<Status(const RestRequest& request,
                                          size_t content_length, BodyLease* lease)>;

// A request's line and headers, parsed as they arrive. Not thread-safe.
class HeadParser {
 public:
  virtual ~HeadParser() = default;
  // Keeps `bytes`; false when that would pass the parser's limit.
  virtual bool Feed(std::string_view bytes) = 0;
  // Parses what was fed; an error refuses the request (400 unless it says
  // otherwise).
  virtual Status Parse() = 0;
  // The line and headers are complete; then the rest holds:
  virtual bool AtBody() const = 0;
  // the header lines as sent ("Name: value\r\n"..., then "\r\n"),
  virtual std::string_view HeaderBlock() const = 0;
  // how many of the bytes fed came after them,
  virtual size_t EarlyBytes() const = 0;
  // the request (method, path, query, headers; no body, no peer),
  virtual RestRequest Head() const = 0;
  // its Content-Length (0 without one) and whether it is HTTP/1.0.
  virtual size_t ContentLength() const = 0;
  virtual bool Http10() const = 0;
  // Ready for the next request.
  virtual void Reset() = 0;
};

// Pistache's request parser as a HeadParser, buffering at most
// max_request_bytes (defined in rest_pistache.cc).
std::shared_ptr<HeadParser> MakeHeadParser(size_t max_request_bytes);

class RequestReader {
 public:
  // max_request_bytes bounds a request's line, headers and body together.
  // peer: the client's address, for RestRequest::peer. parser: null for
  // MakeHeadParser(max_request_bytes).
  RequestReader(size_t max_request_bytes, HeadersCheck check, std::string peer = "",
                std::shared_ptr<HeadParser> parser = nullptr);
  ~RequestReader();

  enum class Event {
    kAgain,    // all of the input is read; the request needs more
    kRequest,  // request() is complete: answer it, then call Next()
    kRefused,  // refusal() says why; discard everything the client sends next
  };
  struct Fed {
    Event event;
    // Of the input: with kRequest the rest is the next request's, with
    // kRefused the rest is the refused request's (or later) and is not read.
    size_t used_bytes;
  };
  Fed Feed(const char* data, size_t len);

  // After kRequest: its line and headers (its body stays empty) ...
  const RestRequest& request() const { return request_; }
  // ... and its body, which TakeBody() moves out, and its reservation.
  const std::string& body() const { return body_; }
  std::string TakeBody();
  BodyLease TakeLease();
  const Status& refusal() const { return refusal_; }
  // The client wants the connection closed after this request: a "close"
  // token in Connection, or HTTP/1.0 without a "keep-alive" token.
  bool WantsClose() const;
  // After a refusal: how much of the refused request's declared body is
  // still to come, worth reading and dropping so that a client that sends
  // its whole body before it reads the answer still gets to read it. Zero
  // for a refusal of the request itself or of its token: a stranger's body
  // is not waited for.
  size_t linger_bytes() const { return linger_bytes_; }
  // Ready for the next request on the connection; drops the last one's
  // body and reservation.
  void Next();

 private:
  struct Piece {
    bool done = false;        // the request is complete
    size_t unused_bytes = 0;  // of the piece, after the request (the next one's)
  };
  Status FeedPiece(const char* data, size_t len, Piece* piece);
  Status AppendBody(const char* data, size_t len, Piece* piece);
  Status FeedParser(std::string_view bytes);
  Status CheckHead();
  Status CheckFraming();

  const size_t max_request_bytes_;
  const HeadersCheck check_;
  const std::string peer_;
  const std::shared_ptr<HeadParser> parser_;
  RestRequest request_;  // the current request's line and headers
  bool wants_close_ = false;
  size_t head_bytes_ = 0;  // fed while the line and headers were read
  size_t held_crs_ = 0;    // trailing CRs not yet given to the parser
  bool checked_ = false;   // CheckHead passed for the current request
  size_t body_bytes_ = 0;  // its Content-Length
  std::string body_;       // what has come of it
  BodyLease lease_;
  Status refusal_;
  size_t linger_bytes_ = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_READER_H_
