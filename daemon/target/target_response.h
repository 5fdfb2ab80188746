// Bytes of the responses `loadd target` writes: status lines, headers and
// the filler used for large bodies. Pure and allocation-free.
#ifndef LOADD_DAEMON_TARGET_TARGET_RESPONSE_H_
#define LOADD_DAEMON_TARGET_TARGET_RESPONSE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace loadd {

// The Connection header a response carries. HTTP/1.1 keep-alive needs none;
// HTTP/1.0 keep-alive must say so.
enum class ConnectionHeader { kNone, kKeepAlive, kClose };

// "OK", "Service Unavailable", ...; "Unknown" for codes without a name.
const char* ReasonPhrase(int status);

// False for the codes whose responses never carry a body (1xx, 204, 304):
// they get neither body nor Content-Length.
bool StatusAllowsBody(int status);

// Writes "HTTP/1.1 <status> <reason>", Content-Length (when the status
// allows a body), Content-Type, Connection, `set_cookie` as a Set-Cookie
// header (when not empty) and the blank line into `buf`.
// Returns the bytes written, or 0 when `buf_bytes` is too small.
size_t FormatResponseHead(int status, uint64_t content_bytes,
                          std::string_view content_type, ConnectionHeader connection,
                          char* buf, size_t buf_bytes, std::string_view set_cookie = {});

// The interim response to "Expect: 100-continue".
constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

// Filler for /bytes bodies: kFillChunkBytes of printable text, valid for the
// life of the process; larger bodies repeat it.
constexpr size_t kFillChunkBytes = 64 * 1024;
const char* FillChunk();

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_RESPONSE_H_
