#include "daemon/target/target_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/clock.h"
#include "common/log.h"
#include "common/rx_stamp.h"

namespace loadd {
namespace {

constexpr uint64_t kListenTag = ~uint64_t{0};
constexpr uint64_t kWakeTag = ~uint64_t{0} - 1;
constexpr int kMaxEvents = 256;
constexpr int kAcceptBatch = 64;  // accepts per wake-up, for fairness
constexpr size_t kReadBufBytes = 64 * 1024;
constexpr size_t kReadBudgetBytes = 256 * 1024;  // per connection per service
constexpr int kMaxIov = 64;
constexpr int kWriteRounds = 8;               // sendmsg calls per service
constexpr int kServiceRounds = 4;             // read/write/resume rounds per service
constexpr int64_t kLingerNs = 1 * kNsPerSec;  // drain input after a closing response
// A receive stamp older than this is taken for a wall-clock step (the
// longest injectable delay is a minute).
constexpr int64_t kMaxStampAgeNs = 60 * kNsPerSec;
constexpr int64_t kAcceptRetryNs = 10 * kNsPerMs;

bool IsResourceShortage(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

struct TargetLoop::Conn {
  Conn(int conn_fd, uint64_t conn_id, TargetStats* stats, TargetStats::Shard* shard,
       DemoApi* api, const SessionLimits& limits)
      : fd(conn_fd), id(conn_id), session(stats, shard, api, limits) {}

  const int fd;
  const uint64_t id;
  HttpSession session;
  int64_t timer_ns = 0;         // due time of the armed timer, 0 if none
  int64_t linger_until_ns = 0;  // while draining: close at this time
  bool may_read = true;         // the socket may hold unread bytes
  bool peer_hup = false;    // epoll saw RDHUP/HUP/ERR: read until EOF, not a short read
  bool write_more = false;  // output left after the write budget
  bool draining = false;    // output shut down; discarding input until EOF
  bool deferred = false;    // queued in deferred_
};

TargetLoop::TargetLoop(int listen_fd, const LoopOptions& options, TargetStats* stats,
                       TargetStats::Shard* shard, DemoApi* api)
    : listen_fd_(listen_fd),
      options_(options),
      stats_(stats),
      shard_(shard),
      api_(api),
      read_buf_(new char[kReadBufBytes]) {}

TargetLoop::~TargetLoop() {
  CloseAll();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

Status TargetLoop::Init() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    return Status(StatusCode::kInternal,
                  std::string("epoll/eventfd: ") + std::strerror(errno));
  }
  epoll_event listen_event{};
  listen_event.events = EPOLLIN | EPOLLET;
  listen_event.data.u64 = kListenTag;
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.u64 = kWakeTag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen_event) != 0 ||
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake_event) != 0) {
    return Status(StatusCode::kInternal,
                  std::string("epoll_ctl: ") + std::strerror(errno));
  }
  accept_pending_ = true;  // connections may have queued before registration
  return Status::Ok();
}

void TargetLoop::Stop() {
  stop_.store(true);
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof one);
  (void)ignored;
}

void TargetLoop::Run() {
  epoll_event events[kMaxEvents];
  while (!stop_.load(std::memory_order_relaxed)) {
    timespec ts;
    int n = Wait(events, kMaxEvents, WaitTimeout(MonotonicNowNs(), &ts));
    if (n < 0 && errno != EINTR) {
      LOG_ERROR("target: epoll wait failed: %s", std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) Dispatch(events[i]);
    int64_t now_ns = MonotonicNowNs();
    if (accept_pending_ && now_ns >= accept_retry_ns_) AcceptSome();
    RunTimers(now_ns);
    RunDeferred();
  }
  CloseAll();
  close(listen_fd_);  // stop accepting: new connections are refused
  listen_fd_ = -1;
}

// nullptr (block) when nothing waits on time; zero when work is pending.
timespec* TargetLoop::WaitTimeout(int64_t now_ns, timespec* ts) const {
  int64_t wait_ns = -1;
  if (!timers_.empty()) wait_ns = std::max<int64_t>(0, timers_.top().due_ns - now_ns);
  if (accept_pending_) {
    int64_t accept_wait_ns = std::max<int64_t>(0, accept_retry_ns_ - now_ns);
    wait_ns = wait_ns < 0 ? accept_wait_ns : std::min(wait_ns, accept_wait_ns);
  }
  if (!deferred_.empty()) wait_ns = 0;
  if (wait_ns < 0) return nullptr;
  ts->tv_sec = wait_ns / kNsPerSec;
  ts->tv_nsec = wait_ns % kNsPerSec;
  return ts;
}

// epoll_pwait2 for a nanosecond timeout; epoll_wait rounded up to the next
// millisecond where the kernel or a seccomp filter refuses it.
int TargetLoop::Wait(epoll_event* events, int max_events, timespec* timeout) {
  if (use_pwait2_) {
    int n = epoll_pwait2(epoll_fd_, events, max_events, timeout, nullptr);
    if (n >= 0 || (errno != ENOSYS && errno != EPERM)) return n;
    use_pwait2_ = false;
    LOG_WARN("target: epoll_pwait2 unavailable (%s); delays round up to 1 ms",
             std::strerror(errno));
  }
  int timeout_ms = -1;
  if (timeout != nullptr) {
    int64_t ns = timeout->tv_sec * kNsPerSec + timeout->tv_nsec;
    timeout_ms =
        static_cast<int>(std::min<int64_t>((ns + kNsPerMs - 1) / kNsPerMs, 1 << 30));
  }
  return epoll_wait(epoll_fd_, events, max_events, timeout_ms);
}

void TargetLoop::Dispatch(const epoll_event& event) {
  if (event.data.u64 == kListenTag) {
    accept_pending_ = true;
    if (MonotonicNowNs() >= accept_retry_ns_) AcceptSome();
    return;
  }
  if (event.data.u64 == kWakeTag) {
    uint64_t count;
    ssize_t ignored = read(wake_fd_, &count, sizeof count);
    (void)ignored;
    return;
  }
  int fd = static_cast<int>(event.data.u64);
  if (fd < 0 || static_cast<size_t>(fd) >= conns_.size() || !conns_[fd]) return;
  Conn* conn = conns_[fd].get();
  if (event.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn->may_read = true;
  if (event.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn->peer_hup = true;
  Service(conn);
}

void TargetLoop::AcceptSome() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      AddConn(fd);
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      accept_pending_ = false;
      return;
    }
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    int64_t now_ns = MonotonicNowNs();
    if (now_ns - last_reject_log_ns_ >= kNsPerSec) {
      last_reject_log_ns_ = now_ns;
      LOG_WARN("target: accept: %s", std::strerror(errno));
    }
    if (IsResourceShortage(errno)) accept_retry_ns_ = now_ns + kAcceptRetryNs;
    return;
  }
  // Batch used up: accept_pending_ stays set and the loop comes back at once.
}

void TargetLoop::AddConn(int fd) {
  if (stats_->connections_open() >= options_.max_connections) {
    close(fd);
    int64_t now_ns = MonotonicNowNs();
    if (now_ns - last_reject_log_ns_ >= kNsPerSec) {
      last_reject_log_ns_ = now_ns;
      LOG_WARN("target: at --max-connections=%lld; closing new connections",
               static_cast<long long>(options_.max_connections));
    }
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  EnableRxStamps(fd);
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u64 = static_cast<uint64_t>(fd);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    LOG_WARN("target: epoll_ctl add: %s", std::strerror(errno));
    close(fd);
    return;
  }
  if (static_cast<size_t>(fd) >= conns_.size()) conns_.resize(fd + 1024);
  conns_[fd] =
      std::make_unique<Conn>(fd, next_conn_id_++, stats_, shard_, api_, options_.session);
  stats_->OnAccept();
}

// Reads, parses and writes as far as the socket and the budgets allow; then
// closes, lingers, arms a timer or defers the connection.
void TargetLoop::Service(Conn* conn) {
  int64_t now_ns = MonotonicNowNs();
  if (conn->draining) {
    Drain(conn, now_ns);
    return;
  }
  for (int round = 0; round < kServiceRounds; ++round) {
    if (!ReadInput(conn)) return;
    now_ns = MonotonicNowNs();
    if (!WriteOutput(conn, now_ns)) return;
    if (!conn->session.CanResume()) break;
    conn->session.Resume(now_ns);
  }
  Settle(conn, now_ns);
}

// False when the connection was closed. Each read is stamped with the
// kernel's arrival time of its last segment (a fresh clock reading when the
// kernel gives none), so a delay starts when its request arrived: never
// before, and not later because this thread was busy or waiting for a CPU.
bool TargetLoop::ReadInput(Conn* conn) {
  size_t budget_bytes = kReadBudgetBytes;
  RxStampBuffer control;
  while (conn->may_read && conn->session.WantsInput() && budget_bytes > 0) {
    iovec iov{read_buf_.get(), kReadBufBytes};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    control.Attach(&msg);
    ssize_t n = recvmsg(conn->fd, &msg, 0);
    if (n > 0) {
      // A short read drained the socket; edge-triggered epoll reports any
      // later bytes. Not so for a FIN that arrived before this read.
      if (static_cast<size_t>(n) < kReadBufBytes && !conn->peer_hup) {
        conn->may_read = false;
      }
      budget_bytes -= std::min(budget_bytes, static_cast<size_t>(n));
      int64_t now_ns = MonotonicNowNs();
      conn->session.Feed(
          read_buf_.get(), static_cast<size_t>(n),
          RxStampToMonotonicNs(RxStampRealtimeNs(msg), now_ns - kMaxStampAgeNs, now_ns));
    } else if (n == 0) {
      conn->may_read = false;
      conn->session.OnInputClosed();
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      conn->may_read = false;
    } else if (errno != EINTR) {
      CloseConn(conn);  // reset by peer: unsent responses are not counted
      return false;
    }
  }
  return true;
}

// False when the connection was closed.
bool TargetLoop::WriteOutput(Conn* conn, int64_t now_ns) {
  conn->write_more = false;
  for (int round = 0; round < kWriteRounds; ++round) {
    iovec iov[kMaxIov];
    int count = conn->session.GatherOutput(now_ns, iov, kMaxIov);
    if (count == 0) return true;
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;  // EPOLLOUT resumes
      if (errno == EINTR) continue;
      CloseConn(conn);
      return false;
    }
    size_t gathered = 0;
    for (int i = 0; i < count; ++i) gathered += iov[i].iov_len;
    conn->session.MarkWritten(static_cast<size_t>(n), MonotonicNowNs());
    if (static_cast<size_t>(n) < gathered) return true;  // socket buffer full
  }
  conn->write_more = true;
  return true;
}

void TargetLoop::Settle(Conn* conn, int64_t now_ns) {
  HttpSession& session = conn->session;
  if (session.output_closed() || (session.input_closed() && session.Idle())) {
    if (session.input_closed()) {
      CloseConn(conn);
    } else {
      BeginLinger(conn, now_ns);
    }
    return;
  }
  int64_t due_ns = session.NextDueNs(now_ns);
  if (session.input_closed() && due_ns != 0) {
    // The peer left while a delayed response waited: like nginx's 499, it is
    // dropped and not counted. Responses due at once were written above.
    CloseConn(conn);
    return;
  }
  ArmTimer(conn, due_ns);
  if (conn->write_more || session.CanResume() ||
      (conn->may_read && session.WantsInput())) {
    Defer(conn);
  }
}

// After a response that ends the connection: send FIN, then read and drop
// what the peer still sends, so closing does not reset the connection and
// destroy the response before the peer has read it.
void TargetLoop::BeginLinger(Conn* conn, int64_t now_ns) {
  shutdown(conn->fd, SHUT_WR);
  conn->draining = true;
  conn->may_read = true;
  conn->linger_until_ns = now_ns + kLingerNs;
  ArmTimer(conn, conn->linger_until_ns);
  Drain(conn, now_ns);
}

void TargetLoop::Drain(Conn* conn, int64_t now_ns) {
  if (now_ns >= conn->linger_until_ns) {
    CloseConn(conn);
    return;
  }
  size_t budget_bytes = kReadBudgetBytes;
  while (conn->may_read && budget_bytes > 0) {
    ssize_t n = read(conn->fd, read_buf_.get(), kReadBufBytes);
    if (n > 0) {
      budget_bytes -= std::min(budget_bytes, static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      conn->may_read = false;
    } else if (n == 0 || errno != EINTR) {
      CloseConn(conn);
      return;
    }
  }
  if (conn->may_read) Defer(conn);
}

void TargetLoop::ArmTimer(Conn* conn, int64_t due_ns) {
  if (due_ns == 0) return;
  if (conn->timer_ns != 0 && conn->timer_ns <= due_ns) return;  // an earlier one re-arms
  conn->timer_ns = due_ns;
  timers_.push(Timer{due_ns, conn->id, conn->fd});
}

void TargetLoop::Defer(Conn* conn) {
  if (conn->deferred) return;
  conn->deferred = true;
  deferred_.emplace_back(conn->fd, conn->id);
}

// Services every connection whose timer is due. Entries of closed
// connections, or superseded by an earlier timer, are dropped.
void TargetLoop::RunTimers(int64_t now_ns) {
  while (!timers_.empty() && timers_.top().due_ns <= now_ns) {
    Timer timer = timers_.top();
    timers_.pop();
    Conn* conn = Lookup(timer.fd, timer.conn_id);
    if (conn == nullptr || conn->timer_ns != timer.due_ns) continue;
    conn->timer_ns = 0;
    Service(conn);
  }
}

void TargetLoop::RunDeferred() {
  std::vector<std::pair<int, uint64_t>> batch;
  batch.swap(deferred_);
  for (const auto& [fd, id] : batch) {
    Conn* conn = Lookup(fd, id);
    if (conn == nullptr) continue;
    conn->deferred = false;
    Service(conn);
  }
  if (deferred_.empty()) {  // keep the larger buffer for next time
    batch.clear();
    deferred_.swap(batch);
  }
}

TargetLoop::Conn* TargetLoop::Lookup(int fd, uint64_t id) const {
  if (fd < 0 || static_cast<size_t>(fd) >= conns_.size()) return nullptr;
  Conn* conn = conns_[fd].get();
  return conn != nullptr && conn->id == id ? conn : nullptr;
}

void TargetLoop::CloseConn(Conn* conn) {
  int fd = conn->fd;
  close(fd);
  stats_->OnClose();
  conns_[fd].reset();
}

void TargetLoop::CloseAll() {
  for (auto& conn : conns_) {
    if (conn) CloseConn(conn.get());
  }
}

}  // namespace loadd
