#include "daemon/worker/http_conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/clock.h"
#include "daemon/worker/engine.h"

namespace loadd {
namespace {

http_parser_settings MakeSettings(http_cb on_headers, http_cb on_complete,
                                  http_data_cb on_body) {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_headers_complete = on_headers;
  s.on_message_complete = on_complete;
  s.on_body = on_body;
  return s;
}

constexpr uint32_t kConnEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

}  // namespace

HttpConn::HttpConn(Engine* engine, ExchangeOwner* owner)
    : engine_(engine), owner_(owner), timer_(this, engine) {
  parser_.data = this;
}

HttpConn::~HttpConn() { CloseSocket(); }

void HttpConn::Exchange(size_t request, int64_t intended_ns) {
  request_ = request;
  intended_ns_ = intended_ns;
  retried_ = false;
  if (fd_ < 0) {
    Connect();
  } else {
    Send();
  }
}

void HttpConn::Connect() {
  const Address& a = engine_->address(engine_->request(request_).address);
  sent_ns_ = MonotonicNowNs();
  state_ = State::kConnecting;
  fd_ = socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    Fail(ErrorKind::kConnect);
    return;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  reused_ = false;
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 &&
      errno != EINPROGRESS) {
    Fail(ErrorKind::kConnect);
    return;
  }
  if (!engine_->loop()->Add(fd_, kConnEvents, this).ok()) {
    Fail(ErrorKind::kConnect);
    return;
  }
  engine_->loop()->Arm(&timer_, sent_ns_ + engine_->timeout_ns());
}

void HttpConn::Send() {
  written_ = 0;
  bytes_in_ = 0;
  message_complete_ = false;
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  // A fresh connection's clock started when connecting began.
  if (state_ != State::kConnecting) sent_ns_ = MonotonicNowNs();
  state_ = State::kWriting;
  engine_->loop()->Arm(&timer_, sent_ns_ + engine_->timeout_ns());
  ContinueWrite();
}

void HttpConn::ContinueWrite() {
  const std::string& bytes = engine_->request(request_).bytes;
  while (written_ < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + written_, bytes.size() - written_, MSG_NOSIGNAL);
    if (n > 0) {
      written_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      return;  // EPOLLOUT resumes
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (!RetryOnFreshConnection()) Fail(ErrorKind::kIo);
      return;
    }
  }
  state_ = State::kReading;
}

void HttpConn::OnIo(uint32_t events) {
  switch (state_) {
    case State::kConnecting: {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        Fail(ErrorKind::kConnect);
      } else if (events & EPOLLOUT) {
        Send();
      }
      return;
    }
    case State::kWriting:
      if (events & EPOLLOUT) ContinueWrite();
      // Read even while still writing: a server may answer early (413) and
      // this edge would not come again.
      if (state_ != State::kIdle && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        Read();
      }
      return;
    case State::kReading:
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) Read();
      return;
    case State::kIdle:
      // The server closed an idle keep-alive connection: reconnect next time.
      if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) CloseSocket();
      return;
  }
}

void HttpConn::Read() {
  static const http_parser_settings kSettings =
      MakeSettings(OnHeadersComplete, OnMessageComplete, OnBody);
  char* buf = engine_->read_buffer();
  for (;;) {
    ssize_t n = recv(fd_, buf, engine_->read_buffer_size(), 0);
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // EOF ends a body delimited by the connection's close.
      if (n == 0) http_parser_execute(&parser_, &kSettings, nullptr, 0);
      if (message_complete_) {
        CloseSocket();
        Complete();
      } else if (!RetryOnFreshConnection()) {
        Fail(ErrorKind::kIo);
      }
      return;
    }
    bytes_in_ += n;
    size_t parsed = http_parser_execute(&parser_, &kSettings, buf, static_cast<size_t>(n));
    if (message_complete_) {
      Complete();
      return;
    }
    if (parsed != static_cast<size_t>(n) || HTTP_PARSER_ERRNO(&parser_) != HPE_OK) {
      Fail(ErrorKind::kParse);
      return;
    }
  }
}

bool HttpConn::RetryOnFreshConnection() {
  // A keep-alive connection the server had already closed (EOF, reset or
  // EPIPE before any byte of the answer): resend once on a fresh
  // connection, as browsers and libcurl do.
  if (!reused_ || retried_ || bytes_in_ > 0) return false;
  retried_ = true;
  CloseSocket();
  Connect();
  return true;
}

int HttpConn::OnMessageComplete(http_parser* p) {
  static_cast<HttpConn*>(p->data)->message_complete_ = true;
  return 1;  // pause: one response per request
}

int HttpConn::OnBody(http_parser*, const char*, size_t) { return 0; }

int HttpConn::OnHeadersComplete(http_parser* p) {
  // 1 tells http_parser the response has no body: a HEAD response carries
  // the Content-Length of the body it does not send.
  auto* conn = static_cast<HttpConn*>(p->data);
  return conn->engine_->request(conn->request_).head ? 1 : 0;
}

void HttpConn::Complete() {
  int64_t now = MonotonicNowNs();
  const PreparedRequest& req = engine_->request(request_);
  int64_t service_us = (now - sent_ns_) / kNsPerUs;
  if (intended_ns_ > 0) {
    engine_->stats().RecordResponse(req.slot, (now - intended_ns_) / kNsPerUs, service_us,
                                    parser_.status_code, bytes_in_);
  } else {
    engine_->stats().RecordResponse(req.slot, service_us, -1, parser_.status_code, bytes_in_);
  }
  // Closed also when answered before the request was fully written.
  bool whole = written_ == engine_->request(request_).bytes.size();
  if (fd_ >= 0 && (!whole || !http_should_keep_alive(&parser_))) CloseSocket();
  reused_ = true;
  Done();
}

void HttpConn::Fail(ErrorKind kind) {
  engine_->stats().RecordError(engine_->request(request_).slot, kind);
  CloseSocket();
  Done();
}

void HttpConn::Done() {
  state_ = State::kIdle;
  engine_->loop()->Disarm(&timer_);
  owner_->OnExchangeDone(this);
}

void HttpConn::OnTimer() {
  if (state_ != State::kIdle) Fail(ErrorKind::kTimeout);
}

void HttpConn::Interrupt() {
  if (state_ != State::kIdle) {
    engine_->stats().RecordError(engine_->request(request_).slot, ErrorKind::kInterrupted);
    state_ = State::kIdle;
    engine_->loop()->Disarm(&timer_);
  }
  CloseSocket();
}

void HttpConn::Close() {
  if (state_ == State::kIdle) CloseSocket();
}

void HttpConn::CloseSocket() {
  if (fd_ < 0) return;
  engine_->loop()->Remove(fd_);
  close(fd_);
  fd_ = -1;
}

}  // namespace loadd
