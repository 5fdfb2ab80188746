#include "daemon/worker/bus_client.h"

#include <nng/protocol/pair1/pair.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "common/log.h"
#include "common/wire.h"

namespace loadd {
namespace {

// How often the sweeper checks handshake deadlines and closes condemned
// connections. A thread of its own rather than a receive timeout: nng 1.5
// can touch a timed-out receive's freed aio when the socket closes.
constexpr int64_t kSweepIntervalMs = 100;
constexpr int kReconnectMinMs = 100;
// After the coordinator refused our key, redial slowly: it will refuse
// again until the key file is fixed and reloaded.
constexpr int kReconnectAfterRefusalMs = 2000;
constexpr int64_t kNotConnectedWarnNs = 10 * kNsPerSec;
// nng 1.5 can wedge its reaper thread for good when a pipe is closed
// locally while a message is arriving on it (nanomsg/nng#1813, fixed in
// 1.8). So a connection we give up on is closed once it has been quiet for
// kQuietBeforeCloseNs (after kMaxCondemnedNs regardless).
constexpr int64_t kQuietBeforeCloseNs = 200 * kNsPerMs;
constexpr int64_t kMaxCondemnedNs = 2 * kNsPerSec;

Status NngError(const std::string& what, int rv) {
  return Status(StatusCode::kUnavailable, what + ": " + nng_strerror(rv));
}

}  // namespace

BusClient::~BusClient() { Close(); }

void BusClient::OnPipe(nng_pipe pipe, nng_pipe_ev ev, void* self) {
  auto* bus = static_cast<BusClient*>(self);
  // ADD_PRE runs before the pipe starts receiving, so the state for the new
  // pipe is in place before its first message (the challenge) can arrive.
  if (ev == NNG_PIPE_EV_ADD_PRE) {
    bus->OnPipeAdded(nng_pipe_id(pipe));
  } else if (ev == NNG_PIPE_EV_REM_POST) {
    bus->OnPipeRemoved(nng_pipe_id(pipe));
  }
}

void BusClient::OnPipeAdded(uint32_t pipe) {
  MutexLock lock(&mu_);
  ++counters_.pipes_added;
  pipe_ = pipe;
  handshake_ = std::make_unique<ClientHandshake>(key_);
  session_.reset();
  authenticated_ = false;
  deadline_ns_ = Now() + handshake_timeout_ns_;
}

void BusClient::OnPipeRemoved(uint32_t pipe) {
  bool refused = false;
  {
    MutexLock lock(&mu_);
    ++counters_.pipes_removed;
    condemned_.erase(pipe);
    if (pipe != pipe_) return;  // a pipe we gave up on, or an old one
    refused = handshake_ != nullptr && handshake_->answered();
    if (refused) ++counters_.handshake_failures;
    pipe_ = 0;
    handshake_.reset();
    session_.reset();
    if (authenticated_.exchange(false)) unconnected_since_ns_ = Now();
    if (refused) refused_ = true;
  }
  if (refused && !closing_.load()) {
    Warn("the coordinator at " + url_ +
         " closed the connection while checking this "
         "worker's fleet key: the key in " +
         key_file_ +
         " (--fleet-key-file) is probably "
         "not the coordinator's; put the fleet's key there, then reload (SIGHUP) or "
         "restart "
         "this worker");
  }
}

Status BusClient::Dial(const std::string& url, BusClientOptions options) {
  if (options.fleet_key.size() < kMinFleetKeyChars) {
    return Status::Invalid("--fleet-key-file", "the bus needs a fleet key of at least " +
                                                   std::to_string(kMinFleetKeyChars) +
                                                   " characters");
  }
  Result<nng_tls_config*> tls = MakeBusTlsConfig(url, options.tls, /*server=*/false);
  if (!tls.ok()) return tls.status();
  url_ = url;
  key_file_ =
      options.fleet_key_file.empty() ? "the fleet key file" : options.fleet_key_file;
  if (options.clock != nullptr) clock_ = options.clock;
  handshake_timeout_ns_ = options.handshake_timeout_ms * kNsPerMs;
  max_inbox_ = std::max<size_t>(1, options.max_inbox);
  {
    MutexLock lock(&mu_);
    key_ = std::move(options.fleet_key);
    unconnected_since_ns_ = Now();
  }
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int rv = event_fd_ < 0 ? NNG_ENOMEM : nng_pair1_open(&socket_);
  if (rv != 0) {
    if (*tls != nullptr) nng_tls_config_free(*tls);
    return NngError("nng_pair1_open", rv);
  }
  open_ = true;
  nng_socket_set_size(socket_, NNG_OPT_RECVMAXSZ,
                      kMaxWireMessageBytes + kBusFrameOverheadBytes);
  nng_socket_set_int(socket_, NNG_OPT_SENDBUF, 64);
  nng_socket_set_int(socket_, NNG_OPT_RECVBUF, 64);
  nng_socket_set_ms(socket_, NNG_OPT_RECONNMINT, kReconnectMinMs);
  nng_socket_set_ms(socket_, NNG_OPT_RECONNMAXT, 2000);
  nng_pipe_notify(socket_, NNG_PIPE_EV_ADD_PRE, OnPipe, this);
  nng_pipe_notify(socket_, NNG_PIPE_EV_REM_POST, OnPipe, this);
  rv = nng_dialer_create(&dialer_, socket_, url.c_str());
  if (rv == 0 && *tls != nullptr)
    rv = nng_dialer_set_ptr(dialer_, NNG_OPT_TLS_CONFIG, *tls);
  if (*tls != nullptr) nng_tls_config_free(*tls);  // the dialer holds its own reference
  // Non-blocking dial: nng keeps retrying in the background until the
  // coordinator is up, so workers may start before it.
  if (rv == 0) rv = nng_dialer_start(dialer_, NNG_FLAG_NONBLOCK);
  if (rv != 0) return NngError("dial " + url, rv);
  receiver_ = std::thread([this] { ReceiveLoop(); });
  sweeper_ = std::thread([this] { SweepLoop(); });
  return Status::Ok();
}

void BusClient::ReceiveLoop() {
  while (!closing_.load()) {
    nng_msg* msg = nullptr;
    int rv = nng_recvmsg(socket_, &msg, 0);
    if (rv == NNG_ECLOSED) return;
    if (rv != 0) continue;
    uint32_t from = static_cast<uint32_t>(nng_pipe_id(nng_msg_get_pipe(msg)));
    {
      MutexLock lock(&mu_);
      if (pipe_ != 0 && from == pipe_) {
        std::string_view bytes(static_cast<const char*>(nng_msg_body(msg)),
                               nng_msg_len(msg));
        if (!HandleLocked(bytes) && from == pipe_) CondemnLocked();
      } else {
        ++counters_.stale;
        auto c = condemned_.find(from);
        if (c != condemned_.end()) c->second.last_message_ns = MonotonicNowNs();
      }
    }
    nng_msg_free(msg);
  }
}

void BusClient::CondemnLocked() {
  // Forget it now: nothing more from it counts, and its REM_POST finds
  // another pipe (or none) current. The sweeper closes it once quiet.
  int64_t mono = MonotonicNowNs();
  condemned_[pipe_] = Condemned{mono, mono};
  pipe_ = 0;
  handshake_.reset();
  session_.reset();
  if (authenticated_.exchange(false)) unconnected_since_ns_ = Now();
}

void BusClient::SweepLoop() {
  int reconnect_ms = kReconnectMinMs;
  MutexLock sweep_lock(&sweep_mu_);
  while (!closing_.load()) {
    sweep_cv_.WaitForMs(&sweep_mu_, kSweepIntervalMs);
    if (closing_.load()) return;
    std::vector<uint32_t> to_close;
    bool refused = false;
    {
      MutexLock lock(&mu_);
      if (CheckDeadlineLocked()) CondemnLocked();
      int64_t mono = MonotonicNowNs();
      for (auto it = condemned_.begin(); it != condemned_.end();) {
        if (mono - it->second.last_message_ns >= kQuietBeforeCloseNs ||
            mono - it->second.since_ns >= kMaxCondemnedNs) {
          to_close.push_back(it->first);
          it = condemned_.erase(it);
        } else {
          ++it;
        }
      }
      refused = refused_;
    }
    for (uint32_t pipe : to_close) ClosePipe(pipe);
    int want_ms = refused ? kReconnectAfterRefusalMs : kReconnectMinMs;
    if (want_ms != reconnect_ms &&
        nng_dialer_set_ms(dialer_, NNG_OPT_RECONNMINT, want_ms) == 0) {
      reconnect_ms = want_ms;
    }
  }
}

bool BusClient::HandleLocked(std::string_view bytes) {
  if (session_ != nullptr) {
    Result<std::string_view> payload = session_->Open(bytes);
    if (!payload.ok()) {
      ++counters_.bad_frames;
      Warn("bad frame from the coordinator at " + url_ + ": " +
           payload.status().message() + "; connection closed");
      return false;
    }
    std::string copy(*payload);
    while (inbox_.size() >= max_inbox_ && !closing_.load()) inbox_space_.Wait(&mu_);
    if (closing_.load()) return true;
    inbox_.push_back(std::move(copy));
    uint64_t one = 1;
    ssize_t ignored = write(event_fd_, &one, sizeof one);
    (void)ignored;
    return true;
  }
  if (handshake_ == nullptr) return true;
  if (!handshake_->answered()) {
    Result<std::string> response = handshake_->Answer(bytes);
    if (!response.ok()) {
      ++counters_.handshake_failures;
      Warn("the peer at " + url_ + " did not open with the fleet-key handshake (" +
           response.status().message() +
           "): it is not a loadd coordinator with bus "
           "authentication; connection closed");
      return false;
    }
    return SendLocked(*response);
  }
  Result<std::unique_ptr<BusSession>> session = handshake_->Verify(bytes);
  if (!session.ok()) {
    ++counters_.handshake_failures;
    Warn("the peer at " + url_ + " failed to prove it holds the fleet key (" +
         session.status().message() +
         "): it is not this fleet's coordinator, or its key "
         "differs from " +
         key_file_ + "; connection closed");
    return false;
  }
  session_ = std::move(*session);
  handshake_.reset();
  refused_ = false;
  ++counters_.authenticated;
  authenticated_ = true;
  ++epoch_;
  LOG_INFO("bus: connected to the coordinator at %s (fleet key verified both ways)",
           url_.c_str());
  return true;
}

bool BusClient::CheckDeadlineLocked() {
  int64_t now = Now();
  if (handshake_ != nullptr && pipe_ != 0 && now >= deadline_ns_) {
    ++counters_.handshake_timeouts;
    Warn("no fleet-key handshake from " + url_ + " within " +
         std::to_string(handshake_timeout_ns_ / kNsPerMs) +
         " ms: is it a loadd coordinator? Connection closed");
    return true;
  }
  if (!authenticated_.load() && now - unconnected_since_ns_ >= kNotConnectedWarnNs) {
    unconnected_since_ns_ = now;
    Warn("not connected to the coordinator at " + url_ +
         " for 10 s or more; is it up and "
         "reachable" +
         std::string(IsTlsUrl(url_) ? ", and does --bus-tls-ca sign its "
                                      "certificate for this host name"
                                    : "") +
         "? Still trying");
  }
  return false;
}

bool BusClient::SendLocked(const std::string& bytes) {
  nng_msg* msg = nullptr;
  if (nng_msg_alloc(&msg, 0) != 0) return false;
  if (nng_msg_append(msg, bytes.data(), bytes.size()) != 0 ||
      nng_sendmsg(socket_, msg, NNG_FLAG_NONBLOCK) != 0) {
    nng_msg_free(msg);
    return false;
  }
  return true;
}

Status BusClient::Send(const std::string& bytes) {
  MutexLock lock(&mu_);
  if (session_ == nullptr) {
    return Status(StatusCode::kUnavailable, "not connected to the coordinator");
  }
  // Sealed and queued under one lock, so frames leave in sequence order.
  Result<std::string> frame = session_->Seal(bytes);
  if (!frame.ok()) return frame.status();
  if (!SendLocked(*frame)) return Status(StatusCode::kUnavailable, "bus send queue full");
  return Status::Ok();
}

bool BusClient::TryRecv(std::string* out) {
  MutexLock lock(&mu_);
  bool got = false;
  if (!inbox_.empty()) {
    *out = std::move(inbox_.front());
    inbox_.pop_front();
    inbox_space_.Signal();
    got = true;
  }
  if (inbox_.empty()) {
    // recv_fd stays readable exactly while the inbox holds messages.
    uint64_t drained;
    ssize_t ignored = read(event_fd_, &drained, sizeof drained);
    (void)ignored;
  }
  return got;
}

void BusClient::ClosePipe(uint32_t pipe) {
  nng_pipe p = NNG_PIPE_INITIALIZER;
  p.id = pipe;
  nng_pipe_close(p);
}

void BusClient::Warn(const std::string& what) {
  uint64_t suppressed = 0;
  if (!log_limiter_.Allow(MonotonicNowNs(), &suppressed)) return;
  if (suppressed > 0) {
    LOG_WARN("bus: %s (%llu similar events not logged in the last 10 s)", what.c_str(),
             static_cast<unsigned long long>(suppressed));
  } else {
    LOG_WARN("bus: %s", what.c_str());
  }
}

void BusClient::SetFleetKey(std::string key) {
  MutexLock lock(&mu_);
  key_ = std::move(key);
}

BusClient::Counters BusClient::counters() const {
  MutexLock lock(&mu_);
  return counters_;
}

void BusClient::Close() {
  if (!open_) {
    if (event_fd_ >= 0) close(event_fd_);
    event_fd_ = -1;
    return;
  }
  {
    MutexLock lock(&mu_);
    closing_ = true;
    inbox_space_.SignalAll();
  }
  {
    MutexLock lock(&sweep_mu_);
    sweep_cv_.SignalAll();
  }
  if (sweeper_.joinable()) sweeper_.join();
  nng_close(socket_);
  open_ = false;
  if (receiver_.joinable()) receiver_.join();
  close(event_fd_);
  event_fd_ = -1;
}

}  // namespace loadd
