// The HTTP/1.1 side of one `loadd target` connection, without the socket:
// bytes in (Feed), responses out (GatherOutput / MarkWritten). The loop owns
// the socket and the clock and passes both in, so this class is tested with
// plain strings and made-up times.
//
// Responses leave in request order. A response may wait for its due time
// (/delay); those behind it wait too. At most `max_pending_responses` are
// queued: past that, parsing pauses and unparsed bytes are kept until the
// queue drains (Resume). A response is counted in the stats shard when its
// last byte has been reported written. Not thread-safe: one loop thread.
//
// Requests to the demo API (target_api.h) keep what the API needs: the
// Authorization and Content-Type values (at most kMaxKeptHeaderBytes each),
// the body (at most max_body_bytes) and, for /echo, every header. Other
// requests keep nothing: their body is counted and dropped.
#ifndef LOADD_DAEMON_TARGET_TARGET_SESSION_H_
#define LOADD_DAEMON_TARGET_TARGET_SESSION_H_

#include <http_parser.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/target/target_api.h"
#include "daemon/target/target_response.h"
#include "daemon/target/target_routes.h"
#include "daemon/target/target_stats.h"

namespace loadd {

struct SessionLimits {
  size_t max_header_bytes = 16 * 1024;    // request line + headers; above: 431, close
  uint64_t max_body_bytes = 1024 * 1024;  // request body; above: 413, close
  size_t max_pending_responses = 128;     // queued per connection before parsing pauses
};

// A longer Authorization or Content-Type value is treated as absent.
constexpr size_t kMaxKeptHeaderBytes = 4096;

class HttpSession {
 public:
  // `stats`, `shard` and `api` must outlive the session; `api` is shared
  // with other sessions and threads (it is thread-safe). A null `api` turns
  // the demo API off: its paths answer like any other path.
  HttpSession(TargetStats* stats, TargetStats::Shard* shard, DemoApi* api,
              const SessionLimits& limits);
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Parses bytes received at `now_ns` (monotonic). Bytes after a request
  // that ends the connection are discarded.
  void Feed(const char* data, size_t len, int64_t now_ns);
  // Parses kept bytes once the response queue has room again.
  void Resume(int64_t now_ns);
  // The peer sent EOF. Queued responses stay; the caller decides whether to
  // send them.
  void OnInputClosed() { input_closed_ = true; }

  // True when Feed would parse now: the caller should read the socket.
  bool WantsInput() const { return !stopped_ && !paused_ && !input_closed_; }
  // True when parsing is paused for room and the queue has room again.
  bool CanResume() const {
    return paused_ && !stopped_ && Pending() < limits_.max_pending_responses;
  }

  // Points up to `max_iov` iovecs at the unsent bytes of the responses due
  // by `now_ns`, in order. Valid until the next call on this session.
  int GatherOutput(int64_t now_ns, iovec* iov, int max_iov);
  // Reports `bytes` of the gathered output as written to the socket.
  // now_ns: when the write returned (monotonic), for the service-time
  // histogram; -1 leaves the responses untimed.
  void MarkWritten(size_t bytes, int64_t now_ns = -1);

  // Due time of the first queued response if it is later than `now_ns`,
  // else 0 (nothing waits on time).
  int64_t NextDueNs(int64_t now_ns) const;
  // A response that ends the connection has been fully written.
  bool output_closed() const { return output_closed_; }
  bool input_closed() const { return input_closed_; }
  // Nothing queued and nothing kept.
  bool Idle() const { return Pending() == 0 && kept_.empty(); }

 private:
  struct Response {
    int64_t due_ns = 0;       // monotonic; 0: due now
    int64_t arrived_ns = 0;   // monotonic: the request was read whole
    uint64_t sent_bytes = 0;  // of head + body + fill
    uint64_t fill_bytes = 0;  // filler body bytes after head and body
    std::string body;         // body bytes that did not fit in `head`
    RouteKind kind = RouteKind::kPlain;
    ConnectionHeader connection = ConnectionHeader::kNone;
    int status = 200;
    uint32_t head_bytes = 0;
    bool built = false;        // head (and body) written; false only for kStats/kReset
    bool head_only = false;    // HEAD request: headers without body
    bool counted = true;       // counted in the stats when fully written
    bool close_after = false;  // the connection ends after this response
    char head[240];            // status line, headers and a short body
    uint64_t TotalBytes() const { return head_bytes + body.size() + fill_bytes; }
  };

  static const http_parser_settings& Settings();
  static int OnMessageBegin(http_parser* parser);
  static int OnUrl(http_parser* parser, const char* at, size_t len);
  static int OnHeaderField(http_parser* parser, const char* at, size_t len);
  static int OnHeaderValue(http_parser* parser, const char* at, size_t len);
  static int OnHeadersComplete(http_parser* parser);
  static int OnBody(http_parser* parser, const char* at, size_t len);
  static int OnMessageComplete(http_parser* parser);

  // Which header a value belongs to, decided once per header.
  enum class FieldKind { kOther, kExpect, kAuthorization, kContentType, kCookie };

  size_t Execute(const char* data, size_t len);
  int AddHeaderBytes(size_t bytes);
  static FieldKind KindOf(const std::string& field);
  void Classify();
  void KeepHeaderValue(std::string_view chunk);
  Route RouteApiRequest();
  void QueueRequestResponse();
  void QueueError(int status);
  Response& Push();
  void Build(Response* response, std::string_view text, int64_t fill_bytes,
             std::string_view content_type, std::string_view set_cookie = {});
  void BuildDeferred(Response* response);
  static int AddSegments(const Response& response, iovec* iov, int count, int max_iov);
  size_t Pending() const { return queue_.size() - front_; }

  TargetStats* stats_;
  TargetStats::Shard* shard_;
  DemoApi* api_;
  SessionLimits limits_;
  http_parser parser_;
  int64_t now_ns_ = 0;           // receive time of the bytes being parsed
  std::string kept_;             // received, not parsed yet (paused)
  std::vector<Response> queue_;  // live entries are [front_, size)
  size_t front_ = 0;

  // Per request, reset by OnMessageBegin.
  std::string url_;
  std::string field_;  // current header name, first 16 bytes
  size_t header_bytes_ = 0;
  uint64_t body_bytes_ = 0;
  bool last_was_value_ = false;
  bool expect_continue_ = false;
  FieldKind field_kind_ = FieldKind::kOther;
  bool keep_field_ = false;  // the current header goes into headers_
  bool classified_ = false;  // needs_ is set: the request line is parsed
  ApiNeeds needs_;
  std::string authorization_;  // kept for API requests only
  std::string cookie_;         // likewise
  std::string content_type_;
  std::string body_;                  // kept when needs_.body
  std::vector<HeaderField> headers_;  // kept when needs_.headers

  int error_status_ = 0;  // set by a callback that rejects the request
  bool paused_ = false;   // queue full; parsing waits for Resume
  bool stopped_ = false;  // no more requests will be parsed
  bool input_closed_ = false;
  bool output_closed_ = false;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_SESSION_H_
