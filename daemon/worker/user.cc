#include "daemon/worker/user.h"

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

http_parser_settings MakeSettings(http_cb on_complete, http_data_cb on_body) {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_complete = on_complete;
  s.on_body = on_body;
  return s;
}

constexpr uint32_t kConnEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

}  // namespace

User::User(Engine* engine, int64_t global_index, int64_t start_ns)
    : engine_(engine),
      global_index_(global_index),
      timer_(this, engine),
      rotation_pos_(global_index) {
  parser_.data = this;
  engine_->loop()->Arm(&timer_, start_ns);
}

User::~User() { CloseConnection(); }

void User::Begin() {
  begun_ = true;
  engine_->OnUserStarted();
  NextRequest();
}

void User::NextRequest() {
  if (engine_->ending()) {
    Finish();
    return;
  }
  request_ = engine_->NextRequestIndex(&rotation_pos_);
  retried_ = false;
  if (fd_ < 0) {
    Connect();
  } else {
    Send();
  }
}

void User::Connect() {
  const Address& a = engine_->address(engine_->request(request_).address);
  sent_ns_ = MonotonicNowNs();
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
  state_ = State::kConnecting;
  engine_->loop()->Arm(&timer_, sent_ns_ + engine_->timeout_ns());
}

void User::Send() {
  written_ = 0;
  bytes_in_ = 0;
  message_complete_ = false;
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  if (state_ != State::kConnecting) sent_ns_ = MonotonicNowNs();
  state_ = State::kWriting;
  engine_->loop()->Arm(&timer_, sent_ns_ + engine_->timeout_ns());
  ContinueWrite();
}

void User::ContinueWrite() {
  const std::string& bytes = engine_->request(request_).bytes;
  while (written_ < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + written_, bytes.size() - written_, MSG_NOSIGNAL);
    if (n > 0) {
      written_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      return;  // EPOLLOUT will resume
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      Fail(ErrorKind::kIo);
      return;
    }
  }
  state_ = State::kReading;
}

void User::OnIo(uint32_t events) {
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
      if (events & (EPOLLERR | EPOLLHUP)) {
        Fail(ErrorKind::kIo);
      } else if (events & EPOLLOUT) {
        ContinueWrite();
      }
      if (state_ == State::kReading && (events & EPOLLIN)) Read();
      return;
    case State::kReading:
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) Read();
      return;
    case State::kWaiting:
    case State::kFinished:
      // The server closed an idle connection: reconnect on the next request.
      if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) CloseConnection();
      return;
  }
}

void User::Read() {
  static const http_parser_settings kSettings = MakeSettings(OnMessageComplete, OnBody);
  char* buf = engine_->read_buffer();
  for (;;) {
    ssize_t n = recv(fd_, buf, engine_->read_buffer_size(), 0);
    if (n < 0) {
      if (errno == EAGAIN) return;
      if (errno == EINTR) continue;
    }
    if (n <= 0) {
      // EOF or reset. Mark EOF for bodies delimited by connection close.
      if (n == 0) http_parser_execute(&parser_, &kSettings, nullptr, 0);
      if (message_complete_) {
        CloseConnection();
        Complete();
      } else if (reused_ && !retried_ && parser_.nread == 0 && bytes_in_ == 0 &&
                 written_ > 0) {
        // A keep-alive connection the server had already closed: resend once
        // on a fresh connection, as browsers and libcurl do.
        retried_ = true;
        CloseConnection();
        Connect();
      } else {
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

int User::OnMessageComplete(http_parser* p) {
  static_cast<User*>(p->data)->message_complete_ = true;
  return 1;  // pause: one response per request
}

int User::OnBody(http_parser*, const char*, size_t) { return 0; }

void User::Complete() {
  int64_t now = MonotonicNowNs();
  const PreparedRequest& req = engine_->request(request_);
  engine_->stats().RecordResponse(req.slot, (now - sent_ns_) / kNsPerUs, parser_.status_code,
                                  bytes_in_);
  bool keep_alive = fd_ >= 0 && http_should_keep_alive(&parser_) != 0;
  reused_ = true;
  state_ = State::kWaiting;
  engine_->loop()->Disarm(&timer_);
  if (!keep_alive) CloseConnection();
  NextRequest();
}

void User::Fail(ErrorKind kind) {
  engine_->stats().RecordError(engine_->request(request_).slot, kind);
  CloseConnection();
  state_ = State::kWaiting;
  engine_->loop()->Disarm(&timer_);
  NextRequest();
}

void User::OnTimer() {
  switch (state_) {
    case State::kWaiting:
      if (engine_->ending()) return;
      Begin();
      return;
    case State::kConnecting:
    case State::kWriting:
    case State::kReading:
      Fail(ErrorKind::kTimeout);
      return;
    case State::kFinished:
      return;
  }
}

void User::Abort() {
  if (state_ == State::kConnecting || state_ == State::kWriting || state_ == State::kReading) {
    engine_->stats().RecordError(engine_->request(request_).slot, ErrorKind::kInterrupted);
    CloseConnection();
    Finish();
  } else if (state_ == State::kWaiting) {
    FinishIfIdle();
  }
}

void User::FinishIfIdle() {
  // A user that has not started yet never will; one that is waiting between
  // requests (think time) finishes now.
  if (state_ != State::kWaiting) return;
  engine_->loop()->Disarm(&timer_);
  if (begun_) Finish();
}

void User::CloseConnection() {
  if (fd_ < 0) return;
  engine_->loop()->Remove(fd_);
  close(fd_);
  fd_ = -1;
}

void User::Finish() {
  if (state_ == State::kFinished) return;
  state_ = State::kFinished;
  engine_->loop()->Disarm(&timer_);
  CloseConnection();
  engine_->OnUserFinished();
}

}  // namespace loadd
