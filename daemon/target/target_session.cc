#include "daemon/target/target_session.h"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace loadd {
namespace {

constexpr std::string_view kTextPlain = "text/plain";
constexpr std::string_view kJson = "application/json";
constexpr size_t kFieldPrefixBytes = 16;
// A kept body buffer larger than this is freed after its request.
constexpr size_t kKeptBodyCapacityBytes = 64 * 1024;
// A response head with a Set-Cookie (a session token: a few hundred bytes).
constexpr size_t kMaxLongHeadBytes = 1024;

HttpSession* SessionOf(http_parser* parser) {
  return static_cast<HttpSession*>(parser->data);
}

bool ContainsNoCase(std::string_view text, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= text.size(); ++i) {
    if (strncasecmp(text.data() + i, needle.data(), needle.size()) == 0) return true;
  }
  return false;
}

const char* ErrorText(int status) {
  switch (status) {
    case 413:
      return "request body too large\n";
    case 431:
      return "request header fields too large\n";
    default:
      return "bad request\n";
  }
}

}  // namespace

HttpSession::HttpSession(TargetStats* stats, TargetStats::Shard* shard, DemoApi* api,
                         const SessionLimits& limits)
    : stats_(stats), shard_(shard), api_(api), limits_(limits) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

const http_parser_settings& HttpSession::Settings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s{};
    s.on_message_begin = &HttpSession::OnMessageBegin;
    s.on_url = &HttpSession::OnUrl;
    s.on_header_field = &HttpSession::OnHeaderField;
    s.on_header_value = &HttpSession::OnHeaderValue;
    s.on_headers_complete = &HttpSession::OnHeadersComplete;
    s.on_body = &HttpSession::OnBody;
    s.on_message_complete = &HttpSession::OnMessageComplete;
    return s;
  }();
  return settings;
}

void HttpSession::Feed(const char* data, size_t len, int64_t now_ns) {
  if (stopped_ || len == 0) return;
  if (paused_) {
    kept_.append(data, len);
    return;
  }
  now_ns_ = now_ns;
  size_t used = Execute(data, len);
  if (paused_ && !stopped_) kept_.assign(data + used, len - used);
}

void HttpSession::Resume(int64_t now_ns) {
  if (!CanResume()) return;
  paused_ = false;
  http_parser_pause(&parser_, 0);
  if (kept_.empty()) return;
  now_ns_ = now_ns;
  size_t used = Execute(kept_.data(), kept_.size());
  if (paused_ && !stopped_) {
    kept_.erase(0, used);
  } else {
    kept_.clear();
  }
}

// Runs the parser; returns the bytes it consumed. On a parse error queues the
// error response and stops parsing.
size_t HttpSession::Execute(const char* data, size_t len) {
  size_t used = http_parser_execute(&parser_, &Settings(), data, len);
  http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (error == HPE_PAUSED) return used;
  if (error != HPE_OK) {
    int status = error_status_ != 0             ? error_status_
                 : error == HPE_HEADER_OVERFLOW ? 431
                                                : 400;
    QueueError(status);
    return len;
  }
  if (parser_.upgrade) stopped_ = true;  // OnMessageComplete queued a closing response
  return used;
}

int HttpSession::AddHeaderBytes(size_t bytes) {
  header_bytes_ += bytes;
  if (header_bytes_ <= limits_.max_header_bytes) return 0;
  error_status_ = 431;
  return -1;
}

int HttpSession::OnMessageBegin(http_parser* parser) {
  HttpSession* s = SessionOf(parser);
  s->url_.clear();
  s->field_.clear();
  s->header_bytes_ = 16;  // method, version and CRLF of the request line, roughly
  s->body_bytes_ = 0;
  s->last_was_value_ = false;
  s->expect_continue_ = false;
  s->field_kind_ = FieldKind::kOther;
  s->keep_field_ = false;
  s->classified_ = false;
  s->needs_ = ApiNeeds();
  s->authorization_.clear();
  s->cookie_.clear();
  s->content_type_.clear();
  s->headers_.clear();
  if (s->body_.capacity() > kKeptBodyCapacityBytes) {
    std::string().swap(s->body_);
  } else {
    s->body_.clear();
  }
  return 0;
}

// `field` is the first kFieldPrefixBytes of a header name.
HttpSession::FieldKind HttpSession::KindOf(const std::string& field) {
  switch (field.size()) {
    case 6:
      if (strcasecmp(field.c_str(), "expect") == 0) return FieldKind::kExpect;
      return strcasecmp(field.c_str(), "cookie") == 0 ? FieldKind::kCookie
                                                      : FieldKind::kOther;
    case 12:
      return strcasecmp(field.c_str(), "content-type") == 0 ? FieldKind::kContentType
                                                            : FieldKind::kOther;
    case 13:
      return strcasecmp(field.c_str(), "authorization") == 0 ? FieldKind::kAuthorization
                                                             : FieldKind::kOther;
    default:
      return FieldKind::kOther;
  }
}

// The request line is parsed: decide what the API needs kept.
void HttpSession::Classify() {
  classified_ = true;
  if (api_ == nullptr) return;
  needs_ = DemoApi::NeedsFor(http_method_str(static_cast<http_method>(parser_.method)),
                             SplitRequestUrl(url_).path);
}

// Appends to the kept Authorization or Content-Type value, at most one byte
// past the bound (a longer value then reads as absent).
void HttpSession::KeepHeaderValue(std::string_view chunk) {
  std::string& value = field_kind_ == FieldKind::kAuthorization ? authorization_
                       : field_kind_ == FieldKind::kCookie      ? cookie_
                                                                : content_type_;
  size_t room = kMaxKeptHeaderBytes + 1 - std::min(kMaxKeptHeaderBytes + 1, value.size());
  value.append(chunk.substr(0, room));
}

int HttpSession::OnUrl(http_parser* parser, const char* at, size_t len) {
  HttpSession* s = SessionOf(parser);
  s->url_.append(at, len);
  return s->AddHeaderBytes(len);
}

int HttpSession::OnHeaderField(http_parser* parser, const char* at, size_t len) {
  HttpSession* s = SessionOf(parser);
  if (!s->classified_) s->Classify();
  size_t separators = 0;
  if (s->last_was_value_ || s->field_.empty()) {
    s->field_.clear();
    s->last_was_value_ = false;
    separators = 4;  // ": " and CRLF
    s->keep_field_ = s->needs_.headers && s->headers_.size() < kMaxEchoHeaders;
    if (s->keep_field_) s->headers_.emplace_back();
  }
  size_t room = kFieldPrefixBytes - std::min(kFieldPrefixBytes, s->field_.size());
  s->field_.append(at, std::min(room, len));
  if (s->keep_field_) {
    for (size_t i = 0; i < len; ++i) {
      s->headers_.back().name.push_back(static_cast<char>(tolower(at[i])));
    }
  }
  return s->AddHeaderBytes(len + separators);
}

int HttpSession::OnHeaderValue(http_parser* parser, const char* at, size_t len) {
  HttpSession* s = SessionOf(parser);
  if (!s->last_was_value_) s->field_kind_ = KindOf(s->field_);
  s->last_was_value_ = true;
  std::string_view chunk(at, len);
  if (s->field_kind_ == FieldKind::kExpect) {
    if (ContainsNoCase(chunk, "100-continue")) s->expect_continue_ = true;
  } else if (s->field_kind_ != FieldKind::kOther && s->needs_.api) {
    s->KeepHeaderValue(chunk);  // Authorization or Content-Type
  }
  if (s->keep_field_) s->headers_.back().value.append(chunk);
  return s->AddHeaderBytes(len);
}

int HttpSession::OnHeadersComplete(http_parser* parser) {
  HttpSession* s = SessionOf(parser);
  if (!s->classified_) s->Classify();
  bool has_length = (parser->flags & F_CONTENTLENGTH) != 0;
  if (has_length && parser->content_length > s->limits_.max_body_bytes) {
    s->error_status_ = 413;
    return -1;  // not 1 or 2: those mean "skip body" to http_parser
  }
  if (s->needs_.body && has_length) s->body_.reserve(parser->content_length);
  bool expects_body =
      (has_length && parser->content_length > 0) || (parser->flags & F_CHUNKED) != 0;
  if (s->expect_continue_ && expects_body) {
    Response& interim = s->Push();
    interim.counted = false;
    interim.built = true;
    std::memcpy(interim.head, kContinueResponse.data(), kContinueResponse.size());
    interim.head_bytes = kContinueResponse.size();
  }
  return 0;
}

int HttpSession::OnBody(http_parser* parser, const char* at, size_t len) {
  HttpSession* s = SessionOf(parser);
  s->body_bytes_ += len;
  if (s->body_bytes_ > s->limits_.max_body_bytes) {
    s->error_status_ = 413;
    return -1;
  }
  if (s->needs_.body) s->body_.append(at, len);
  return 0;
}

int HttpSession::OnMessageComplete(http_parser* parser) {
  SessionOf(parser)->QueueRequestResponse();
  return 0;
}

void HttpSession::QueueRequestResponse() {
  bool keep_alive = http_should_keep_alive(&parser_) && !parser_.upgrade;
  bool http10 = parser_.http_major == 1 && parser_.http_minor == 0;
  Route route = needs_.api ? RouteApiRequest() : RouteRequest(url_);
  Response& r = Push();
  int64_t wait_ns = StallDelayNs(route, now_ns_) + route.delay_ns;
  r.due_ns = wait_ns > 0 ? now_ns_ + wait_ns : 0;
  r.arrived_ns = now_ns_;
  r.kind = route.kind;
  r.status = route.status;
  r.counted = route.kind == RouteKind::kPlain;
  if (r.counted) shard_->NoteRequest(now_ns_);
  r.head_only = parser_.method == HTTP_HEAD;
  r.close_after = !keep_alive;
  r.connection = !keep_alive ? ConnectionHeader::kClose
                 : http10    ? ConnectionHeader::kKeepAlive
                             : ConnectionHeader::kNone;
  if (route.kind == RouteKind::kPlain) {
    Build(&r, route.text, route.fill_bytes, route.content_type, route.set_cookie);
  }
  if (!keep_alive) stopped_ = true;
  if (stopped_ || Pending() >= limits_.max_pending_responses) {
    paused_ = true;
    http_parser_pause(&parser_, 1);
  }
}

Route HttpSession::RouteApiRequest() {
  auto kept = [](const std::string& value) {
    return value.size() > kMaxKeptHeaderBytes ? std::string_view() : value;
  };
  ApiRequest request;
  request.method = http_method_str(static_cast<http_method>(parser_.method));
  request.url = url_;
  request.authorization = kept(authorization_);
  request.cookie = kept(cookie_);
  request.content_type = kept(content_type_);
  request.body = body_;
  request.headers = needs_.headers ? &headers_ : nullptr;
  return api_->Handle(request);
}

void HttpSession::QueueError(int status) {
  Response& r = Push();
  r.status = status;
  r.close_after = true;
  r.connection = ConnectionHeader::kClose;
  Build(&r, ErrorText(status), -1, kTextPlain);
  stopped_ = true;
}

HttpSession::Response& HttpSession::Push() {
  if (front_ == queue_.size()) {
    queue_.clear();
    front_ = 0;
  } else if (front_ >= 16 && front_ * 2 >= queue_.size()) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(front_));
    front_ = 0;
  }
  return queue_.emplace_back();
}

// Writes the head, and the body unless it is filler or the request was HEAD.
void HttpSession::Build(Response* r, std::string_view text, int64_t fill_bytes,
                        std::string_view content_type, std::string_view set_cookie) {
  r->built = true;
  bool has_body = StatusAllowsBody(r->status);
  uint64_t body_bytes = !has_body ? 0 : fill_bytes >= 0 ? fill_bytes : text.size();
  r->head_bytes = static_cast<uint32_t>(
      FormatResponseHead(r->status, body_bytes, content_type, r->connection, r->head,
                         sizeof r->head, set_cookie));
  if (r->head_bytes == 0) {
    // A head too long for the inline buffer (a Set-Cookie): it goes first
    // in `body`, which AddSegments sends after the (empty) inline part.
    char head[kMaxLongHeadBytes];
    size_t n = FormatResponseHead(r->status, body_bytes, content_type, r->connection,
                                  head, sizeof head, set_cookie);
    r->body.assign(head, n);
    if (!r->head_only && has_body && fill_bytes < 0) r->body.append(text);
    if (!r->head_only && has_body && fill_bytes >= 0) r->fill_bytes = fill_bytes;
    return;
  }
  if (r->head_only || !has_body) return;
  if (fill_bytes >= 0) {
    r->fill_bytes = static_cast<uint64_t>(fill_bytes);
  } else if (r->head_bytes + text.size() <= sizeof r->head) {
    std::memcpy(r->head + r->head_bytes, text.data(), text.size());
    r->head_bytes += static_cast<uint32_t>(text.size());
  } else {
    r->body.assign(text);
  }
}

// /__stats and /__reset act when they reach the front of the queue, so they
// see every response before them as written.
void HttpSession::BuildDeferred(Response* r) {
  if (r->kind == RouteKind::kStats) {
    Build(r, stats_->Snapshot().ToJson(), -1, kJson);
  } else {
    stats_->Reset();
    Build(r, "reset\n", -1, kTextPlain);
  }
}

int HttpSession::GatherOutput(int64_t now_ns, iovec* iov, int max_iov) {
  int count = 0;
  for (size_t i = front_; i < queue_.size() && count < max_iov; ++i) {
    Response& r = queue_[i];
    if (r.due_ns > now_ns) break;
    if (!r.built) {
      if (i != front_) break;
      BuildDeferred(&r);
    }
    count = AddSegments(r, iov, count, max_iov);
    if (r.close_after) break;
  }
  return count;
}

int HttpSession::AddSegments(const Response& r, iovec* iov, int count, int max_iov) {
  uint64_t skip = r.sent_bytes;
  auto add = [&](const char* data, uint64_t len) {
    if (skip >= len) {
      skip -= len;
      return;
    }
    iov[count++] = iovec{const_cast<char*>(data + skip), static_cast<size_t>(len - skip)};
    skip = 0;
  };
  add(r.head, r.head_bytes);
  if (count < max_iov) add(r.body.data(), r.body.size());
  for (uint64_t offset = 0; offset < r.fill_bytes && count < max_iov;
       offset += kFillChunkBytes) {
    add(FillChunk(), std::min<uint64_t>(kFillChunkBytes, r.fill_bytes - offset));
  }
  return count;
}

void HttpSession::MarkWritten(size_t bytes, int64_t now_ns) {
  while (bytes > 0 && front_ < queue_.size()) {
    Response& r = queue_[front_];
    uint64_t take = std::min<uint64_t>(bytes, r.TotalBytes() - r.sent_bytes);
    r.sent_bytes += take;
    bytes -= take;
    if (r.sent_bytes < r.TotalBytes()) break;
    if (r.counted) {
      shard_->CountResponse(r.status, now_ns < 0 ? -1 : (now_ns - r.arrived_ns) / 1000);
    }
    if (r.close_after) output_closed_ = true;
    r.body.clear();
    ++front_;
  }
}

int64_t HttpSession::NextDueNs(int64_t now_ns) const {
  if (front_ == queue_.size()) return 0;
  int64_t due_ns = queue_[front_].due_ns;
  return due_ns > now_ns ? due_ns : 0;
}

}  // namespace loadd
