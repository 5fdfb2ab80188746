// RequestReader: one connection's HTTP requests, read through Pistache's
// parser, with each request's line and headers checked before any byte of
// its body is read.
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
// then the HeadersCheck (the route table's: token, route, body size).
//
// No sockets: GuardedHandler (rest_handler.h) feeds it what a connection
// receives; tests and the fuzz target feed it bytes. Not thread-safe (one
// connection is served by one thread).
#ifndef LOADD_DAEMON_COORDINATOR_REST_READER_H_
#define LOADD_DAEMON_COORDINATOR_REST_READER_H_

#include <pistache/http.h>
#include <pistache/net.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "common/status.h"

namespace loadd {

// Headers of a request may use this much beyond its body.
inline constexpr size_t kMaxRestHeaderBytes = 64 << 10;
// The longest request path (the part before '?').
inline constexpr size_t kMaxRestPathBytes = 2048;
// The most bytes given to Pistache's parser at once.
inline constexpr size_t kFeedBytes = 4096;

// Called when a request's line and headers are in and none of its body has
// been read; content_length is 0 when there is no Content-Length. An error
// refuses the request.
using HeadersCheck =
    std::function<Status(const Pistache::Http::Request& request, size_t content_length)>;

class GuardedParser;

class RequestReader {
 public:
  // max_request_bytes bounds a request's line, headers and body together.
  RequestReader(size_t max_request_bytes, HeadersCheck check,
                Pistache::Address peer = Pistache::Address());
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

  const Pistache::Http::Request& request() const;
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
  // Ready for the next request on the connection.
  void Next();

  // Pistache's parser, for Pistache's own timeouts (Http::Handler::getParser).
  std::shared_ptr<Pistache::Http::RequestParser> parser() const;

 private:
  Status FeedPiece(const char* data, size_t len, bool* done);
  Status FeedParser(std::string_view bytes);
  Status CheckHead();

  const size_t max_request_bytes_;
  const HeadersCheck check_;
  const Pistache::Address peer_;
  std::shared_ptr<GuardedParser> parser_;
  size_t head_bytes_ = 0;  // fed while the line and headers were read
  size_t held_crs_ = 0;    // trailing CRs not yet given to the parser
  bool checked_ = false;   // CheckHead passed for the current request
  Status refusal_;
  size_t linger_bytes_ = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_READER_H_
