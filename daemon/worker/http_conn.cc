#include "daemon/worker/http_conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "common/clock.h"
#include "common/rx_stamp.h"
#include "daemon/worker/engine.h"
#include "daemon/worker/source_addr.h"

namespace loadd {
namespace {

constexpr size_t kMaxCapturedBodyBytes = 1 << 20;
constexpr size_t kMaxCapturedHeaderBytes = 8 << 10;

// Kernel receive stamps are on unless LOADD_RX_STAMPS=0: only for measuring
// what they change (bench/c1_latency.py); latency then ends when the loop
// reads the response, as in wrk.
bool RxStampsWanted() {
  static const bool wanted = [] {
    const char* v = std::getenv("LOADD_RX_STAMPS");
    return v == nullptr || std::string_view(v) != "0";
  }();
  return wanted;
}

constexpr uint32_t kConnEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

}  // namespace

HttpConn::HttpConn(Engine* engine, ExchangeOwner* owner)
    : engine_(engine), owner_(owner), timer_(this, engine) {
  parser_.data = this;
  tls_io_.rx_realtime_ns = &rx_realtime_ns_;
}

HttpConn::~HttpConn() {
  CloseSocket();
  SSL_SESSION_free(session_);
}

void HttpConn::Exchange(const PreparedRequest* request, int64_t intended_ns) {
  req_ = request;
  intended_ns_ = intended_ns;
  retried_ = false;
  // A request to another host (a scenario step, a plan with several
  // targets) needs a connection of its own.
  if (fd_ >= 0 && address_ != request->address) CloseSocket();
  if (fd_ < 0) {
    Connect();
  } else {
    Send();
  }
}

void HttpConn::Connect() {
  const Address& a = engine_->address(req_->address);
  if (address_ != req_->address) {
    SSL_SESSION_free(session_);  // sessions resume only with the host that made them
    session_ = nullptr;
    address_ = req_->address;
  }
  sent_ns_ = engine_->loop()->NowNs();
  state_ = State::kConnecting;
  fd_ = socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    Fail(ErrorKind::kConnect);
    return;
  }
  BindLoopbackSource(fd_, reinterpret_cast<const sockaddr*>(&a.addr),
                     a.len);  // source_addr.h
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // The kernel stamps each segment as it arrives; a response's latency ends
  // there, not when this loop got around to reading it (common/rx_stamp.h).
  if (RxStampsWanted()) EnableRxStamps(fd_);
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
  engine_->loop()->Arm(&timer_, sent_ns_ + TimeoutNs());
}

void HttpConn::Send() {
  written_ = 0;
  bytes_in_ = 0;
  message_complete_ = false;
  result_.body.clear();
  result_.headers.clear();
  header_wanted_ = false;
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  rx_realtime_ns_ = 0;
  // A fresh connection's clock started when connecting began.
  if (state_ == State::kIdle) sent_ns_ = engine_->loop()->NowNs();
  state_ = State::kWriting;
  engine_->loop()->Arm(&timer_, sent_ns_ + TimeoutNs());
  ContinueWrite();
}

void HttpConn::ContinueWrite() {
  const std::string& bytes = req_->bytes;
  while (written_ < bytes.size()) {
    ssize_t n = WriteSome(bytes.data() + written_, bytes.size() - written_);
    if (n == kWouldBlock) return;  // EPOLLOUT resumes
    if (n <= 0) {
      if (!RetryOnFreshConnection()) Fail(ErrorKind::kIo);
      return;
    }
    written_ += static_cast<size_t>(n);
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
        Connected();
      }
      return;
    }
    case State::kHandshake:
      Handshake();
      return;
    case State::kWriting:
      if (events & EPOLLOUT) ContinueWrite();
      // Read even while still writing: a server may answer early (413) and
      // this edge would not come again.
      // (Not after a resend that is connecting afresh.)
      if ((state_ == State::kWriting || state_ == State::kReading) &&
          (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        Read();
      }
      return;
    case State::kReading:
      // Over TLS a read may need a write first (a KeyUpdate to answer while
      // the send buffer was full): EPOLLOUT resumes it then.
      if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ||
          (read_wants_write_ && (events & EPOLLOUT))) {
        Read();
      }
      return;
    case State::kIdle:
      // The server closed an idle keep-alive connection: reconnect next time.
      if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) CloseSocket();
      return;
  }
}

void HttpConn::Read() {
  static const http_parser_settings kSettings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_header_field = OnHeaderField;
    s.on_header_value = OnHeaderValue;
    s.on_headers_complete = OnHeadersComplete;
    s.on_message_complete = OnMessageComplete;
    s.on_body = OnBody;
    return s;
  }();
  char* buf = engine_->read_buffer();
  for (;;) {
    ssize_t n = ReadSome(buf, engine_->read_buffer_size());
    if (n == kWouldBlock) return;
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
    size_t parsed =
        http_parser_execute(&parser_, &kSettings, buf, static_cast<size_t>(n));
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

int HttpConn::OnBody(http_parser* p, const char* at, size_t len) {
  auto* conn = static_cast<HttpConn*>(p->data);
  if (conn->req_->capture_body) {
    size_t room = kMaxCapturedBodyBytes -
                  std::min(kMaxCapturedBodyBytes, conn->result_.body.size());
    conn->result_.body.append(at, std::min(len, room));
  }
  return 0;
}

// A header name may arrive in pieces; the first piece of its value closes
// it (OnHeaderValue clears header_field_), so a new name starts empty.
int HttpConn::OnHeaderField(http_parser* p, const char* at, size_t len) {
  auto* conn = static_cast<HttpConn*>(p->data);
  if (conn->req_->capture_headers.empty()) return 0;
  conn->header_wanted_ = false;
  for (size_t i = 0; i < len && conn->header_field_.size() < 256; ++i) {
    conn->header_field_.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(at[i]))));
  }
  return 0;
}

int HttpConn::OnHeaderValue(http_parser* p, const char* at, size_t len) {
  auto* conn = static_cast<HttpConn*>(p->data);
  if (conn->req_->capture_headers.empty()) return 0;
  if (!conn->header_field_.empty()) {
    const auto& wanted = conn->req_->capture_headers;
    conn->header_wanted_ =
        std::find(wanted.begin(), wanted.end(), conn->header_field_) != wanted.end();
    if (conn->header_wanted_) conn->result_.headers.emplace_back(conn->header_field_, "");
    conn->header_field_.clear();
  }
  if (conn->header_wanted_ &&
      conn->result_.headers.back().second.size() + len <= kMaxCapturedHeaderBytes) {
    conn->result_.headers.back().second.append(at, len);
  }
  return 0;
}

int HttpConn::OnHeadersComplete(http_parser* p) {
  // 1 tells http_parser the response has no body: a HEAD response carries
  // the Content-Length of the body it does not send.
  return static_cast<HttpConn*>(p->data)->req_->head ? 1 : 0;
}

void HttpConn::Complete() {
  // When the answer's last segment arrived, so that time this process spent
  // waiting for a CPU or handling other connections' events is not counted
  // as the server's latency.
  int64_t now = RxStampToMonotonicNs(rx_realtime_ns_, sent_ns_, engine_->loop()->NowNs());
  int64_t service_us = (now - sent_ns_) / kNsPerUs;
  result_.ok = true;
  result_.status = parser_.status_code;
  result_.latency_us = intended_ns_ > 0 ? (now - intended_ns_) / kNsPerUs : service_us;
  engine_->stats().RecordResponse(req_->slot, result_.latency_us,
                                  intended_ns_ > 0 ? service_us : -1, parser_.status_code,
                                  bytes_in_);
  // Closed also when answered before the request was fully written.
  bool whole = written_ == req_->bytes.size();
  if (fd_ >= 0 && (!whole || !http_should_keep_alive(&parser_))) CloseSocket();
  reused_ = true;
  Done();
}

void HttpConn::Fail(ErrorKind kind) {
  engine_->stats().RecordError(req_->slot, kind);
  result_.ok = false;
  result_.status = 0;
  CloseSocket();
  Done();
}

void HttpConn::Done() {
  state_ = State::kIdle;
  engine_->loop()->Disarm(&timer_);
  owner_->OnExchangeDone(this, result_);
}

int64_t HttpConn::TimeoutNs() const {
  return req_->timeout_ns > 0 ? req_->timeout_ns : engine_->timeout_ns();
}

void HttpConn::OnTimer() {
  if (state_ != State::kIdle) Fail(ErrorKind::kTimeout);
}

void HttpConn::Interrupt() {
  if (state_ != State::kIdle) {
    engine_->stats().RecordError(req_->slot, ErrorKind::kInterrupted);
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
  if (ssl_ != nullptr) {
    // No close_notify: a load generator does not wait for the peer's (wrk
    // does not either). The session is kept to resume on reconnecting;
    // marking the connection as shut down keeps SSL_free from flagging the
    // session as not resumable.
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_SESSION* session = SSL_get1_session(ssl_);
    if (session != nullptr && SSL_SESSION_is_resumable(session))
      std::swap(session, session_);
    SSL_SESSION_free(session);
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  engine_->loop()->Remove(fd_);
  close(fd_);
  fd_ = -1;
}

}  // namespace loadd
