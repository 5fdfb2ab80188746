#include "daemon/coordinator/rest_reader.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "common/http_fields.h"

namespace loadd {

namespace {

// What a request's header block says about its framing, read from the very
// bytes Pistache's HeadersStep parsed, the way it splits them: a name up
// to ':', spaces, a value up to CRLF.
struct HeadFacts {
  int content_lengths = 0;
  bool content_length_digits = true;  // every Content-Length is digits (then blanks)
  bool transfer_encoding = false;
  bool bad_name = false;
  bool close = false;       // a "close" token in Connection
  bool keep_alive = false;  // a "keep-alive" token in Connection
};

bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void NoteConnection(std::string_view value, HeadFacts* facts) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view token = TrimBlanks(value.substr(0, comma));
    if (EqualsLower(token, "close")) facts->close = true;
    if (EqualsLower(token, "keep-alive")) facts->keep_alive = true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

HeadFacts ScanHeaders(std::string_view block) {
  HeadFacts facts;
  while (!block.empty() && !block.starts_with("\r\n")) {
    size_t colon = block.find(':');
    size_t eol = block.find("\r\n", colon == std::string_view::npos ? 0 : colon);
    if (colon == std::string_view::npos || eol == std::string_view::npos) {
      facts.bad_name = true;  // cannot happen after Pistache's HeadersStep
      break;
    }
    std::string_view name = block.substr(0, colon);
    std::string_view value = block.substr(colon + 1, eol - colon - 1);
    block.remove_prefix(eol + 2);
    if (!IsHttpToken(name)) {
      facts.bad_name = true;
    }
    if (EqualsLower(name, "content-length")) {
      ++facts.content_lengths;
      std::string_view digits = TrimBlanks(value);
      if (digits.empty() ||
          digits.find_first_not_of("0123456789") != std::string_view::npos) {
        facts.content_length_digits = false;
      }
    } else if (EqualsLower(name, "transfer-encoding")) {
      facts.transfer_encoding = true;
    } else if (EqualsLower(name, "connection")) {
      NoteConnection(value, &facts);
    }
  }
  return facts;
}

Status Malformed(const std::string& what) {
  return Status(StatusCode::kInvalidArgument, "malformed HTTP request: " + what);
}

Status TooLarge(size_t max_request_bytes) {
  return Status(StatusCode::kResourceExhausted,
                "the request is larger than this coordinator's limit of " +
                    std::to_string(max_request_bytes) + " bytes (body and headers)");
}

}  // namespace

RequestReader::RequestReader(size_t max_request_bytes, HeadersCheck check,
                             std::string peer, std::shared_ptr<HeadParser> parser)
    : max_request_bytes_(max_request_bytes),
      check_(std::move(check)),
      peer_(std::move(peer)),
      parser_(parser != nullptr ? std::move(parser) : MakeHeadParser(max_request_bytes)) {
}

RequestReader::~RequestReader() = default;

RequestReader::Fed RequestReader::Feed(const char* data, size_t len) {
  if (!refusal_.ok()) return {Event::kRefused, len};
  size_t used = 0;
  while (used < len) {
    size_t n = checked_ ? len - used : std::min(len - used, kFeedBytes);
    Piece piece;
    Status status = FeedPiece(data + used, n, &piece);
    used += n;
    if (!status.ok()) {
      refusal_ = status;
      body_ = std::string();
      lease_.Release();
      return {Event::kRefused, used};
    }
    if (piece.done) return {Event::kRequest, used - piece.unused_bytes};
  }
  return {Event::kAgain, len};
}

Status RequestReader::FeedPiece(const char* data, size_t len, Piece* piece) {
  if (checked_) return AppendBody(data, len, piece);
  // Pistache's StreamCursor::eol() reads the byte after a CR even when the
  // CR is the last byte it holds, one past its buffer (seen by rest_fuzz).
  // Only the request line and header steps look for line ends: until the
  // headers are checked, a piece's trailing CRs wait for a byte after them.
  size_t ready = len;
  while (ready > 0 && data[ready - 1] == '\r') --ready;
  if (ready > 0) {
    LOADD_RETURN_IF_ERROR(FeedParser(std::string(held_crs_, '\r')));
    held_crs_ = 0;
    LOADD_RETURN_IF_ERROR(FeedParser(std::string_view(data, ready)));
    LOADD_RETURN_IF_ERROR(parser_->Parse());
  }
  held_crs_ += len - ready;
  head_bytes_ += len;
  if (parser_->AtBody()) {
    LOADD_RETURN_IF_ERROR(CheckHead());
    checked_ = true;
    held_crs_ = 0;
    // The headers ended within data[0, ready): what the parser holds after
    // them is that range's tail, and the body (or the next request) starts
    // there; this piece's trailing CRs follow it.
    size_t start = ready - std::min(ready, parser_->EarlyBytes());
    return AppendBody(data + start, len - start, piece);
  }
  if (head_bytes_ > kMaxRestHeaderBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "the request line and headers are larger than " +
                      std::to_string(kMaxRestHeaderBytes) + " bytes");
  }
  return Status::Ok();
}

Status RequestReader::AppendBody(const char* data, size_t len, Piece* piece) {
  size_t take = std::min(len, body_bytes_ - body_.size());
  body_.append(data, take);
  piece->unused_bytes = len - take;
  piece->done = body_.size() == body_bytes_;
  return Status::Ok();
}

Status RequestReader::FeedParser(std::string_view bytes) {
  if (bytes.empty() || parser_->Feed(bytes)) return Status::Ok();
  return TooLarge(max_request_bytes_);
}

// Pistache's own checks passed; these come next.
Status RequestReader::CheckFraming() {
  const std::string& path = request_.resource;
  if (path.empty() || path.front() != '/') {
    return Malformed("the request target must be a path starting with '/'");
  }
  if (path.size() > kMaxRestPathBytes) {
    return Malformed("the request path is longer than " +
                     std::to_string(kMaxRestPathBytes) + " bytes");
  }
  HeadFacts facts = ScanHeaders(parser_->HeaderBlock());
  if (facts.bad_name) {
    return Malformed(
        "a header name is empty or has a space, control or separator character (no "
        "space before the ':')");
  }
  if (facts.content_lengths > 1) return Malformed("more than one Content-Length header");
  if (!facts.content_length_digits) {
    return Malformed(
        "a header has an invalid value (Content-Length must be a number "
        "of bytes)");
  }
  if (facts.transfer_encoding) {
    // Pistache would reserve each chunk's declared size before reading it.
    return Malformed(
        "a request body sent with Transfer-Encoding is not accepted: send it with a "
        "Content-Length header instead");
  }
  wants_close_ = facts.close || (parser_->Http10() && !facts.keep_alive);
  return Status::Ok();
}

Status RequestReader::CheckHead() {
  request_ = parser_->Head();
  request_.peer = peer_;
  LOADD_RETURN_IF_ERROR(CheckFraming());
  size_t content_length = parser_->ContentLength();
  if (check_) {
    Status checked = check_(request_, content_length, &lease_);
    if (!checked.ok()) {
      if (checked.code() != StatusCode::kUnauthenticated) {
        linger_bytes_ = content_length - std::min(content_length, parser_->EarlyBytes());
      }
      return checked;
    }
  }
  if (content_length > max_request_bytes_) return TooLarge(max_request_bytes_);
  body_bytes_ = content_length;
  body_.reserve(content_length);
  return Status::Ok();
}

bool RequestReader::WantsClose() const { return wants_close_; }

std::string RequestReader::TakeBody() { return std::exchange(body_, std::string()); }

BodyLease RequestReader::TakeLease() { return std::move(lease_); }

void RequestReader::Next() {
  parser_->Reset();
  request_ = RestRequest();
  wants_close_ = false;
  held_crs_ = 0;
  head_bytes_ = 0;
  checked_ = false;
  body_ = std::string();
  body_bytes_ = 0;
  lease_.Release();
}

}  // namespace loadd
