// HttpConn's byte I/O: the TLS handshake, and writes and reads over a plain
// socket or through OpenSSL (see http_conn.h).
#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "common/rx_stamp.h"
#include "daemon/worker/engine.h"
#include "daemon/worker/http_conn.h"

namespace loadd {

void HttpConn::Connected() {
  const Address& a = engine_->address(address_);
  if (!a.tls) {
    Send();
    return;
  }
  tls_io_.fd = fd_;
  const TlsContext* tls = engine_->tls();
  ssl_ = tls != nullptr ? tls->NewSsl(&tls_io_, a.host, session_) : nullptr;
  if (ssl_ == nullptr) {
    Fail(ErrorKind::kConnect);
    return;
  }
  state_ = State::kHandshake;
  Handshake();
}

void HttpConn::Handshake() {
  int rc = SSL_connect(ssl_);
  if (rc == 1) {
    Send();
    return;
  }
  int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;  // epoll resumes
  engine_->NoteTlsFailure(engine_->address(address_), TakeTlsError(ssl_));
  Fail(ErrorKind::kConnect);
}

ssize_t HttpConn::WriteSome(const char* buf, size_t size) {
  if (ssl_ != nullptr) {
    int n = SSL_write(ssl_, buf, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return n;
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) return kWouldBlock;
    ERR_clear_error();
    return kIoError;
  }
  for (;;) {
    ssize_t n = send(fd_, buf, size, MSG_NOSIGNAL);
    if (n > 0) return n;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN ? kWouldBlock : kIoError;
  }
}

// Edge-triggered epoll: callers read until kWouldBlock. SSL_read may return
// bytes OpenSSL already holds without touching the socket, which that loop
// drains too.
ssize_t HttpConn::ReadSome(char* buf, size_t size) {
  if (ssl_ != nullptr) {
    read_wants_write_ = false;
    int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return n;
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ:
        return kWouldBlock;
      case SSL_ERROR_WANT_WRITE:
        read_wants_write_ = true;  // OnIo resumes the read on EPOLLOUT
        return kWouldBlock;
      case SSL_ERROR_ZERO_RETURN:  // close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF)
        return 0;
      default:
        ERR_clear_error();
        return kIoError;
    }
  }
  RxStampBuffer control;
  for (;;) {
    iovec iov{buf, size};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    control.Attach(&msg);
    ssize_t n = recvmsg(fd_, &msg, 0);
    if (n > 0) {
      int64_t stamp = RxStampRealtimeNs(msg);
      if (stamp != 0) rx_realtime_ns_ = stamp;
      return n;
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    return errno == EAGAIN ? kWouldBlock : kIoError;
  }
}

}  // namespace loadd
