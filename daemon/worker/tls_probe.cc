#include "daemon/worker/tls_probe.h"

#include <openssl/err.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "common/clock.h"

namespace loadd {
namespace {

// Waits until fd is ready for `events` or the deadline passes.
bool WaitFor(int fd, short events, int64_t deadline_ns) {  // NOLINT(runtime/int)
  for (;;) {
    int64_t left_ms = (deadline_ns - MonotonicNowNs()) / kNsPerMs;
    if (left_ms <= 0) return false;
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, static_cast<int>(left_ms));
    if (rc > 0) return true;
    if (rc == 0 || errno != EINTR) return false;
  }
}

}  // namespace

Result<std::string> ProbeAlpn(const TlsContext& probe, const sockaddr* addr,
                              socklen_t len, const std::string& host,
                              int64_t timeout_ms) {
  int64_t deadline_ns = MonotonicNowNs() + timeout_ms * kNsPerMs;
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(StatusCode::kUnavailable, "socket() failed");
  int err = 0;
  socklen_t err_len = sizeof err;
  if ((connect(fd, addr, len) != 0 && errno != EINPROGRESS) ||
      !WaitFor(fd, POLLOUT, deadline_ns) ||
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0 || err != 0) {
    close(fd);
    return Status(StatusCode::kUnavailable, "cannot connect");
  }
  TlsIo io{fd, nullptr};
  SSL* ssl = probe.NewSsl(&io, host, nullptr);
  if (ssl == nullptr) {
    close(fd);
    return Status(StatusCode::kInternal, "SSL_new failed");
  }
  for (;;) {
    int rc = SSL_connect(ssl);
    if (rc == 1) break;
    int e = SSL_get_error(ssl, rc);
    short wanted = e == SSL_ERROR_WANT_READ    ? POLLIN
                   : e == SSL_ERROR_WANT_WRITE ? POLLOUT
                                               : 0;
    if (wanted == 0 || !WaitFor(fd, wanted, deadline_ns)) break;
  }
  ERR_clear_error();
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  std::string out;
  if (alpn != nullptr) out.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  SSL_free(ssl);
  close(fd);
  return out;
}

}  // namespace loadd
