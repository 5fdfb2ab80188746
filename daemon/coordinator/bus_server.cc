#include "daemon/coordinator/bus_server.h"

#include <nng/protocol/pair1/pair.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <vector>

#include "common/log.h"
#include "common/wire.h"

namespace loadd {
namespace {

// Non-handshake messages tolerated before authentication: a reconnecting
// worker's send queue (64 messages) may still hold frames of its previous
// connection, which nng delivers on the new one ahead of the response.
constexpr uint32_t kMaxStraysBeforeAuth = 128;
// How often the sweeper expires handshakes and closes condemned pipes. A
// thread of its own rather than a receive timeout: nng 1.5 can touch a
// timed-out receive's freed aio when the socket closes meanwhile.
constexpr int64_t kSweepIntervalMs = 100;
// nng 1.5 can wedge its reaper thread for good when a pipe is closed
// locally while a message is arriving on it (nanomsg/nng#1813, fixed in
// 1.8). So a pipe we give up on is closed only once it has sent nothing
// for kQuietBeforeCloseNs (a peer that keeps talking: after
// kMaxCondemnedNs regardless).
constexpr int64_t kQuietBeforeCloseNs = 200 * kNsPerMs;
constexpr int64_t kMaxCondemnedNs = 2 * kNsPerSec;
// A closed pipe whose removal nng never reported stops holding a slot.
constexpr int64_t kForgetClosedNs = 10 * kNsPerSec;
// The socket's send queue, in messages (nng allows at most 8192), and how
// long a send waits when it is full. Pipes take messages off it at once
// (a pipe whose own queue is full drops the message), so a wait is short.
constexpr int kSendBufferMessages = 8192;
constexpr int kSendWaitMs = 100;

}  // namespace

void BusServerFlags::AddTo(CLI::App* app) {
  app->add_option("--fleet-key-file", fleet_key_file,
                  "file holding the fleet key every worker must prove (create one with "
                  "`loadd keygen`; mode 600)")
      ->envname("LOADD_FLEET_KEY_FILE")
      ->capture_default_str();
  app->add_option("--bus-tls-cert", tls.cert_file,
                  "PEM certificate of the coordinator, for a tls+tcp:// --bus");
  app->add_option("--bus-tls-key", tls.key_file, "PEM private key of --bus-tls-cert");
  app->add_option("--bus-tls-ca", tls.ca_file,
                  "PEM CA: when set, workers must also present a certificate it signed");
}

Result<BusServerOptions> BusServerFlags::Load() const {
  Result<std::string> key = LoadFleetKey(fleet_key_file, "--fleet-key-file");
  if (!key.ok()) return key.status();
  BusServerOptions options;
  options.fleet_key = std::move(*key);
  options.tls = tls;
  return options;
}

BusServer::~BusServer() { Close(); }

void BusServer::OnPipe(nng_pipe pipe, nng_pipe_ev ev, void* self) {
  auto* server = static_cast<BusServer*>(self);
  if (ev == NNG_PIPE_EV_ADD_PRE) {
    server->OnPipeAdding(pipe);
  } else if (ev == NNG_PIPE_EV_ADD_POST) {
    server->OnPipeAdded(pipe);
  } else if (ev == NNG_PIPE_EV_REM_POST) {
    server->OnPipeRemoved(pipe);
  }
}

// Before the pipe joins the socket: admit it into handshake (perhaps in
// place of the longest-waiting one), or refuse it (closing it here means
// the socket never sees it).
void BusServer::OnPipeAdding(nng_pipe pipe) {
  uint32_t id = nng_pipe_id(pipe);
  std::string address = PipePeerAddress(pipe);
  std::string refusal, eviction;
  {
    MutexLock lock(&mu_);
    Result<std::unique_ptr<ServerHandshake>> h = ServerHandshake::Start(key_);
    if (sessions_ >= max_sessions_) {
      refusal = std::to_string(max_sessions_) + " workers are already connected";
    } else if (!h.ok()) {
      refusal = h.status().ToString();
    } else {
      HandshakeAdmission::Decision d = admission_.Admit(id, AddressHost(address), Now());
      if (!d.admitted) {
        refusal = d.why;
      } else {
        if (d.evicted != 0) {
          ++counters_.evicted;
          auto victim = peers_.find(d.evicted);
          if (victim != peers_.end()) {
            Condemn(d.evicted, &victim->second);
            eviction = "the longest-waiting unauthenticated connection, from " +
                       victim->second.address + ", closed to make way (" + d.why + ")";
          }
        }
        Peer& peer = peers_[id];
        peer.address = address;
        peer.last_message_ns = MonotonicNowNs();
        peer.handshake = std::move(*h);
      }
    }
    if (!refusal.empty()) ++counters_.over_limit;
  }
  if (!eviction.empty()) Warn(address, eviction);
  if (!refusal.empty()) {
    Warn(address, "connection refused: " + refusal);
    nng_pipe_close(pipe);
  }
}

// The pipe can carry messages now: challenge it.
void BusServer::OnPipeAdded(nng_pipe pipe) {
  uint32_t id = nng_pipe_id(pipe);
  MutexLock lock(&mu_);
  auto it = peers_.find(id);
  if (it == peers_.end() || it->second.handshake == nullptr || it->second.condemned)
    return;
  if (!SendLocked(id, it->second.handshake->Challenge())) Condemn(id, &it->second);
}

void BusServer::OnPipeRemoved(nng_pipe pipe) {
  uint32_t id = nng_pipe_id(pipe);
  MutexLock deliver(&deliver_mu_);
  bool announced = false;
  {
    MutexLock lock(&mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    announced = it->second.announced;
    sessions_ -= it->second.session != nullptr;
    peers_.erase(it);
    admission_.Removed(id);
  }
  if (announced) coordinator_->OnDisconnect(id);
}

Status BusServer::Listen(const std::string& url, BusServerOptions options) {
  if (options.fleet_key.size() < kMinFleetKeyChars) {
    return Status::Invalid("--fleet-key-file", "the bus needs a fleet key of at least " +
                                                   std::to_string(kMinFleetKeyChars) +
                                                   " characters");
  }
  Result<nng_tls_config*> tls = MakeBusTlsConfig(url, options.tls, /*server=*/true);
  if (!tls.ok()) return tls.status();
  if (options.clock != nullptr) clock_ = options.clock;
  max_sessions_ = options.max_sessions;
  {
    MutexLock lock(&mu_);
    key_ = std::move(options.fleet_key);
    admission_ = HandshakeAdmission(options.admission);
  }
  int rv = nng_pair1_open_poly(&socket_);
  if (rv != 0) {
    if (*tls != nullptr) nng_tls_config_free(*tls);
    return Status(StatusCode::kInternal, std::string("nng: ") + nng_strerror(rv));
  }
  open_ = true;
  // Frames carry the largest wire message plus sequence number and MAC.
  nng_socket_set_size(socket_, NNG_OPT_RECVMAXSZ,
                      kMaxWireMessageBytes + kBusFrameOverheadBytes);
  nng_socket_set_int(socket_, NNG_OPT_RECVBUF, 1024);
  // A run's start sends one assignment to every worker at once, and each
  // second's pings go out together: the socket's queue must hold a burst
  // for the whole fleet (nng's maximum), and a send that still finds it
  // full waits briefly for it to drain into the pipes (see SendLocked).
  nng_socket_set_int(socket_, NNG_OPT_SENDBUF, kSendBufferMessages);
  nng_socket_set_ms(socket_, NNG_OPT_SENDTIMEO, kSendWaitMs);
  nng_pipe_notify(socket_, NNG_PIPE_EV_ADD_PRE, OnPipe, this);
  nng_pipe_notify(socket_, NNG_PIPE_EV_ADD_POST, OnPipe, this);
  nng_pipe_notify(socket_, NNG_PIPE_EV_REM_POST, OnPipe, this);
  nng_listener listener;
  rv = nng_listener_create(&listener, socket_, url.c_str());
  if (rv == 0 && *tls != nullptr)
    rv = nng_listener_set_ptr(listener, NNG_OPT_TLS_CONFIG, *tls);
  if (*tls != nullptr) nng_tls_config_free(*tls);  // the listener holds its own reference
  if (rv == 0) rv = nng_listener_start(listener, 0);
  if (rv != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot listen on " + url + ": " + nng_strerror(rv), "--bus");
  }
  if (nng_listener_get_int(listener, NNG_OPT_TCP_BOUND_PORT, &port_) != 0) port_ = 0;
  receiver_ = std::thread([this] { ReceiveLoop(); });
  sweeper_ = std::thread([this] { SweepLoop(); });
  return Status::Ok();
}

void BusServer::ReceiveLoop() {
  while (!closing_.load()) {
    nng_msg* msg = nullptr;
    int64_t wait_start = Now();
    waiting_since_ns_.store(wait_start);
    int rv = nng_recvmsg(socket_, &msg, 0);
    waiting_since_ns_.store(0);
    if (Now() - wait_start >= kIdleWaitNs) drained_at_ns_.store(wait_start);
    if (rv == NNG_ECLOSED) return;
    if (rv != 0) continue;
    uint32_t pipe = nng_pipe_id(nng_msg_get_pipe(msg));
    std::string_view bytes(static_cast<const char*>(nng_msg_body(msg)), nng_msg_len(msg));
    MutexLock deliver(&deliver_mu_);
    std::string_view payload;
    std::string why;
    switch (Judge(pipe, bytes, &payload, &why)) {
      case Verdict::kDeliver:
        coordinator_->OnMessage(pipe, payload);
        break;
      case Verdict::kAnnounce:
        coordinator_->OnConnect(pipe);
        break;
      case Verdict::kDrop:
        break;
    }
    nng_msg_free(msg);
  }
}

int64_t BusServer::DeliveredUpToNs(int64_t now_ns) const {
  int64_t waiting = waiting_since_ns_.load();
  if (waiting != 0 && now_ns - waiting >= kIdleWaitNs) return now_ns;
  int64_t drained = drained_at_ns_.load();
  // Before the first proven-empty wait (start-up, or saturated from the
  // first message on) nothing is known: judge by now, as before.
  return drained == 0 ? now_ns : std::min(now_ns, drained);
}

BusServer::Verdict BusServer::Judge(uint32_t pipe, std::string_view bytes,
                                    std::string_view* payload, std::string* why) {
  std::string address;
  {
    MutexLock lock(&mu_);
    auto it = peers_.find(pipe);
    if (it == peers_.end()) return Verdict::kDrop;  // already gone
    Peer& peer = it->second;
    peer.last_message_ns = MonotonicNowNs();
    if (peer.condemned) return Verdict::kDrop;
    address = peer.address;
    if (peer.session != nullptr) {
      Result<std::string_view> opened = peer.session->Open(bytes);
      if (opened.ok()) {
        *payload = *opened;
        return Verdict::kDeliver;
      }
      ++counters_.bad_frames;
      Condemn(pipe, &peer);
      *why = "bad frame from a worker: " + opened.status().message();
    } else if (!IsHandshakeMessage(bytes, kBusResponseBytes, kBusResponseType)) {
      ++counters_.strays;
      if (++peer.strays <= kMaxStraysBeforeAuth) return Verdict::kDrop;
      admission_.Failed(pipe, Now());
      Condemn(pipe, &peer);
      *why = std::to_string(peer.strays) + " messages without authenticating";
    } else {
      std::unique_ptr<BusSession> session;
      Result<std::string> proof = peer.handshake->Finish(bytes, &session);
      if (proof.ok() && SendLocked(pipe, *proof)) {
        peer.session = std::move(session);
        peer.handshake.reset();
        peer.announced = true;
        ++sessions_;
        admission_.Authenticated(pipe);
        return Verdict::kAnnounce;
      }
      ++counters_.handshake_failures;
      admission_.Failed(pipe, Now());
      Condemn(pipe, &peer);
      *why = proof.ok()
                 ? "could not send the handshake proof"
                 : "authentication failed: " + proof.status().message() +
                       " (is the worker's --fleet-key-file the coordinator's key?)";
    }
  }
  Warn(address, *why + "; connection closed");
  return Verdict::kDrop;
}

void BusServer::Condemn(uint32_t id, Peer* peer) {
  admission_.Closing(id);
  if (peer->condemned) return;
  peer->condemned = true;
  peer->condemned_ns = MonotonicNowNs();
}

void BusServer::SweepLoop() {
  MutexLock lock(&sweep_mu_);
  while (!closing_.load()) {
    sweep_cv_.WaitForMs(&sweep_mu_, kSweepIntervalMs);
    if (!closing_.load()) Sweep();
  }
}

void BusServer::Sweep() {
  std::vector<std::pair<uint32_t, std::string>> expired;
  std::vector<uint32_t> to_close;
  int64_t handshake_timeout_ns = 0;
  {
    MutexLock lock(&mu_);
    handshake_timeout_ns = admission_.handshake_timeout_ns();
    for (uint32_t id : admission_.Expire(Now())) {
      auto it = peers_.find(id);
      if (it == peers_.end()) continue;
      ++counters_.handshake_timeouts;
      Condemn(id, &it->second);
      expired.emplace_back(id, it->second.address + " (" +
                                   std::to_string(it->second.strays) +
                                   " unauthenticated messages)");
    }
    int64_t mono = MonotonicNowNs();
    for (auto it = peers_.begin(); it != peers_.end();) {
      Peer& peer = it->second;
      if (peer.condemned && !peer.closed &&
          (mono - peer.last_message_ns >= kQuietBeforeCloseNs ||
           mono - peer.condemned_ns >= kMaxCondemnedNs)) {
        peer.closed = true;
        to_close.push_back(it->first);
      }
      if (peer.closed && !peer.announced && mono - peer.condemned_ns >= kForgetClosedNs) {
        admission_.Removed(it->first);
        it = peers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& [id, address] : expired) {
    Warn(address, "no authentication within " +
                      std::to_string(handshake_timeout_ns / kNsPerMs) +
                      " ms; connection closed");
  }
  for (uint32_t id : to_close) ClosePipe(id);
}

bool BusServer::SendLocked(uint32_t pipe, const std::string& bytes) {
  nng_msg* msg = nullptr;
  if (nng_msg_alloc(&msg, 0) != 0) return false;
  if (nng_msg_append(msg, bytes.data(), bytes.size()) != 0) {
    nng_msg_free(msg);
    return false;
  }
  nng_pipe p = NNG_PIPE_INITIALIZER;
  p.id = pipe;
  nng_msg_set_pipe(msg, p);
  int rv = nng_sendmsg(socket_, msg, NNG_FLAG_NONBLOCK);
  // Full (a burst past kSendBufferMessages): wait up to kSendWaitMs for nng
  // to hand queued messages to their pipes rather than drop this one.
  if (rv == NNG_EAGAIN) rv = nng_sendmsg(socket_, msg, 0);
  if (rv != 0) {
    nng_msg_free(msg);
    LOG_DEBUG("send to pipe %u failed: %s", pipe, nng_strerror(rv));
    return false;
  }
  return true;
}

void BusServer::SendTo(uint32_t pipe, const std::string& bytes) {
  MutexLock lock(&mu_);
  auto it = peers_.find(pipe);
  if (it == peers_.end() || it->second.session == nullptr || it->second.condemned) {
    ++counters_.unsent;
    return;
  }
  // Sealed and queued under one lock, so frames leave in sequence order.
  Result<std::string> frame = it->second.session->Seal(bytes);
  if (!frame.ok()) {
    LOG_WARN("bus message to %s not sent: %s", it->second.address.c_str(),
             frame.status().ToString().c_str());
    return;
  }
  SendLocked(pipe, *frame);
}

void BusServer::ClosePipe(uint32_t pipe) {
  nng_pipe p = NNG_PIPE_INITIALIZER;
  p.id = pipe;
  int rv = nng_pipe_close(p);  // REM_POST follows on nng's thread
  MutexLock lock(&mu_);
  ++(rv == 0 ? counters_.closed : counters_.close_errors);
  if (rv != 0) LOG_DEBUG("closing pipe %u: %s", pipe, nng_strerror(rv));
}

void BusServer::Warn(const std::string& address, const std::string& what) {
  uint64_t suppressed = 0;
  if (!log_limiter_.Allow(MonotonicNowNs(), &suppressed)) return;
  if (suppressed > 0) {
    LOG_WARN("bus: %s: %s (%llu similar events not logged in the last 5 s)",
             address.c_str(), what.c_str(), static_cast<unsigned long long>(suppressed));
  } else {
    LOG_WARN("bus: %s: %s", address.c_str(), what.c_str());
  }
}

void BusServer::SetFleetKey(std::string key) {
  MutexLock lock(&mu_);
  key_ = std::move(key);
}

Status BusServer::ReloadFleetKey(const BusServerFlags& flags) {
  Result<BusServerOptions> loaded = flags.Load();
  if (!loaded.ok()) return loaded.status();
  SetFleetKey(std::move(loaded->fleet_key));
  LOG_INFO("fleet key reloaded from %s: new worker connections must prove it",
           flags.fleet_key_file.c_str());
  return Status::Ok();
}

BusServer::Counters BusServer::counters() const {
  MutexLock lock(&mu_);
  return counters_;
}

size_t BusServer::handshaking() const {
  MutexLock lock(&mu_);
  return admission_.pending();
}

size_t BusServer::sessions() const {
  MutexLock lock(&mu_);
  return sessions_;
}

void BusServer::Close() {
  if (!open_) return;
  {
    MutexLock lock(&sweep_mu_);
    closing_ = true;
    sweep_cv_.SignalAll();
  }
  if (sweeper_.joinable()) sweeper_.join();
  nng_close(socket_);  // runs REM_POST for every pipe before it returns
  open_ = false;
  if (receiver_.joinable()) receiver_.join();
  MutexLock lock(&mu_);
  peers_.clear();
  sessions_ = 0;
  admission_ = HandshakeAdmission();
}

}  // namespace loadd
