#include "daemon/target/target_response.h"

#include <charconv>
#include <cstring>

namespace loadd {
namespace {

struct Reason {
  int status;
  const char* phrase;
};

constexpr Reason kReasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {418, "I'm a teapot"},
    {422, "Unprocessable Content"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

// Appends to a fixed buffer; remembers overflow instead of writing past it.
class Appender {
 public:
  Appender(char* buf, size_t buf_bytes) : buf_(buf), cap_(buf_bytes) {}
  void Add(std::string_view text) {
    if (len_ + text.size() > cap_) {
      overflow_ = true;
      return;
    }
    std::memcpy(buf_ + len_, text.data(), text.size());
    len_ += text.size();
  }
  void AddNumber(uint64_t value) {
    char digits[24];
    auto result = std::to_chars(digits, digits + sizeof digits, value);
    Add(std::string_view(digits, result.ptr - digits));
  }
  size_t Finish() const { return overflow_ ? 0 : len_; }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
};

struct FillBlock {
  FillBlock() {
    static constexpr char kLine[] =
        "loadd target filler 0123456789abcdefghijklmnopqrstuvwxyz\n";
    for (size_t i = 0; i < kFillChunkBytes; ++i) bytes[i] = kLine[i % (sizeof kLine - 1)];
  }
  char bytes[kFillChunkBytes];
};

}  // namespace

const char* ReasonPhrase(int status) {
  for (const Reason& reason : kReasons) {
    if (reason.status == status) return reason.phrase;
  }
  return "Unknown";
}

bool StatusAllowsBody(int status) {
  return status >= 200 && status != 204 && status != 304;
}

size_t FormatResponseHead(int status, uint64_t content_bytes,
                          std::string_view content_type, ConnectionHeader connection,
                          char* buf, size_t buf_bytes, std::string_view set_cookie) {
  Appender out(buf, buf_bytes);
  out.Add("HTTP/1.1 ");
  out.AddNumber(static_cast<uint64_t>(status));
  out.Add(" ");
  out.Add(ReasonPhrase(status));
  if (StatusAllowsBody(status)) {
    out.Add("\r\nContent-Length: ");
    out.AddNumber(content_bytes);
    out.Add("\r\nContent-Type: ");
    out.Add(content_type);
  }
  if (connection == ConnectionHeader::kKeepAlive) out.Add("\r\nConnection: keep-alive");
  if (connection == ConnectionHeader::kClose) out.Add("\r\nConnection: close");
  if (!set_cookie.empty()) {
    out.Add("\r\nSet-Cookie: ");
    out.Add(set_cookie);
  }
  out.Add("\r\n\r\n");
  return out.Finish();
}

const char* FillChunk() {
  static const FillBlock* block = new FillBlock();  // never freed: valid for late writers
  return block->bytes;
}

}  // namespace loadd
