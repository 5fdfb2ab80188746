// The fleet bus against intruders, over real nng sockets on loopback: a real
// BusServer + Coordinator (FakeClock), raw nng pair1 sockets playing peers
// without the key, a raw peer that knows the key (to capture and replay its
// own frames), and fake coordinators in front of a real BusClient.
//
// Waits are for network events, bounded by a real-time deadline; every
// timeout (handshake deadlines) runs on the fake clock.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <thread>

#include "common/bus_auth.h"
#include "common/bus_tls.h"
#include "common/mutex.h"
#include "common/wire.h"
#include "daemon/coordinator/bus_server.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/worker/bus_client.h"

namespace loadd {
namespace {

const std::string kKey = "k3y-0123456789abcdef0123456789abcdef";
const std::string kOtherKey = "other-0123456789abcdef0123456789abcdef";
constexpr int64_t kHandshakeTimeoutMs = 2000;

// Polls `done` for up to `seconds` of real time.
bool WaitFor(const std::function<bool()>& done, double seconds = 5) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

// A peer speaking nng's pair1-over-TCP wire format by hand on a plain
// socket (8-byte SP header exchange, then messages as u64 length + u32 hop
// count + body), so the test controls every byte and every close, and the
// peers add no nng sockets to the process (nng 1.5's teardown races,
// nanomsg/nng#1543, stay out of the picture).
class RawPeer {
 public:
  RawPeer() = default;
  ~RawPeer() { Close(); }

  // Connects to "tcp://127.0.0.1:PORT" and exchanges SP headers.
  bool Dial(const std::string& url) {
    int port = std::stoi(url.substr(url.rfind(':') + 1));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return false;
    }
    return Start(fd);
  }
  // Listens on a free loopback port and accepts one connection in the
  // background; returns the URL.
  std::string Listen() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    acceptor_ = std::thread([this] {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) Start(fd);
    });
    return "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  void Close() {
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool Send(std::string_view body) {
    if (fd_ < 0) return false;
    std::string frame(8, '\0');
    uint64_t len = body.size() + 4;
    for (int i = 0; i < 8; ++i) frame[i] = static_cast<char>(len >> (56 - 8 * i));
    frame += std::string("\0\0\0\1", 4);  // hop count 1
    frame += body;
    return WriteAll(frame);
  }
  // The next message; nullopt once the connection is closed (or after 3 s).
  std::optional<std::string> Recv() {
    std::optional<std::string> out;
    WaitFor(
        [&] {
          MutexLock lock(&mu_);
          if (!inbox_.empty()) {
            out = std::move(inbox_.front());
            inbox_.pop_front();
          }
          return out.has_value() || closed_.load();
        },
        3);
    return out;
  }
  int added() const { return added_.load(); }
  int removed() const { return closed_.load() ? 1 : 0; }
  bool WaitClosed() {
    return WaitFor([this] { return closed_.load(); });
  }

 private:
  bool Start(int fd) {
    fd_ = fd;
    const char header[8] = {0, 'S', 'P', 0, 0, 0x11, 0, 0};  // pair1
    char peer[8];
    timeval limit{5, 0};  // for the header exchange only
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    bool ok = WriteAll(std::string_view(header, 8)) && ReadAll(peer, 8) && peer[1] == 'S';
    limit = timeval{0, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    if (!ok) {
      closed_ = true;
      return false;
    }
    ++added_;
    reader_ = std::thread([this] { ReadLoop(); });
    return true;
  }
  void ReadLoop() {
    char len_bytes[8];
    while (ReadAll(len_bytes, 8)) {
      uint64_t len = 0;
      for (char c : len_bytes) len = len << 8 | static_cast<uint8_t>(c);
      if (len < 4 || len > (64u << 20)) break;
      std::string msg(len, '\0');
      if (!ReadAll(msg.data(), len)) break;
      MutexLock lock(&mu_);
      inbox_.push_back(msg.substr(4));  // without the hop count
    }
    closed_ = true;
  }
  bool WriteAll(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool ReadAll(char* out, size_t n) {
    while (n > 0) {
      ssize_t got = recv(fd_, out, n, 0);
      if (got <= 0) return false;
      out += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }

  std::atomic<int> fd_{-1};
  int listen_fd_ = -1;
  std::thread reader_, acceptor_;
  Mutex mu_;
  std::deque<std::string> inbox_ GUARDED_BY(mu_);
  std::atomic<int> added_{0};
  std::atomic<bool> closed_{false};
};

// A peer that knows the key but speaks raw bytes, so the test can capture,
// replay and damage its frames.
struct RawWorker {
  RawPeer peer;
  std::unique_ptr<BusSession> session;

  bool Connect(const std::string& url, const std::string& key) {
    if (!peer.Dial(url)) return false;
    std::optional<std::string> challenge = peer.Recv();
    if (!challenge) return false;
    ClientHandshake handshake(key);
    Result<std::string> response = handshake.Answer(*challenge);
    if (!response.ok() || !peer.Send(*response)) return false;
    std::optional<std::string> proof = peer.Recv();
    if (!proof) return false;
    Result<std::unique_ptr<BusSession>> s = handshake.Verify(*proof);
    if (!s.ok()) return false;
    session = std::move(*s);
    return true;
  }
  std::string Seal(const Message& m) { return *session->Seal(EncodeMessage(m)); }
  bool SendMsg(const Message& m) { return peer.Send(Seal(m)); }
  // The next message from the coordinator of type T (pings skipped).
  template <typename T>
  std::optional<T> RecvMsg() {
    for (int i = 0; i < 10; ++i) {
      std::optional<std::string> frame = peer.Recv();
      if (!frame) return std::nullopt;
      Result<std::string_view> payload = session->Open(*frame);
      if (!payload.ok()) return std::nullopt;
      Result<Message> m = DecodeMessage(*payload);
      if (!m.ok()) return std::nullopt;
      if (auto* t = std::get_if<T>(&*m)) return *t;
    }
    return std::nullopt;
  }
};

std::string Describe(const BusServer::Counters& c) {
  return "server: handshake failures " + std::to_string(c.handshake_failures) +
         ", timeouts " + std::to_string(c.handshake_timeouts) + ", evicted " +
         std::to_string(c.evicted) + ", refused " + std::to_string(c.over_limit) +
         ", bad frames " + std::to_string(c.bad_frames) + ", strays " +
         std::to_string(c.strays) + ", closed " + std::to_string(c.closed) +
         ", close errors " + std::to_string(c.close_errors);
}

HelloMsg Hello(const std::string& host) { return HelloMsg{host, 0, -1, 2, 100, "t", ""}; }

StatsMsg Stats(const std::string& run_id, int64_t requests) {
  StatsMsg stats;
  stats.run_id = run_id;
  EndpointStats e;
  e.name = "GET /x";
  e.requests = requests;
  for (int64_t i = 0; i < requests; ++i) e.latency_us.Record(1000 + i);
  stats.endpoints.push_back(e);
  return stats;
}

class BusSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_coordinator(&coordinator_);
    BusServerOptions options;
    options.fleet_key = kKey;
    options.clock = &clock_;
    options.admission.handshake_timeout_ms = kHandshakeTimeoutMs;
    options.admission.max_pending = 4;
    options.admission.max_pending_per_host = 4;
    Status st = server_.Listen("tcp://127.0.0.1:0", options);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_GT(server_.port(), 0);
    url_ = "tcp://127.0.0.1:" + std::to_string(server_.port());
  }
  void TearDown() override { server_.Close(); }

  rapidjson::Document Json(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    EXPECT_FALSE(doc.HasParseError()) << text;
    return doc;
  }
  size_t Listed() { return Json(coordinator_.ListWorkers())["workers"].Size(); }
  int64_t Live() { return Json(coordinator_.Health())["workers"].GetInt64(); }
  // Lets the server's handshake deadlines pass on the fake clock.
  void ExpireHandshakes() { clock_.AdvanceNs((kHandshakeTimeoutMs + 1) * kNsPerMs); }
  // Registers a raw worker that knows the key.
  void Register(RawWorker* w, const std::string& host) {
    ASSERT_TRUE(w->Connect(url_, kKey));
    size_t before = Listed();
    ASSERT_TRUE(w->SendMsg(Hello(host)));
    ASSERT_TRUE(w->RecvMsg<WelcomeMsg>().has_value());
    ASSERT_EQ(Listed(), before + 1);
  }
  // Starts a run on the registered workers; returns its id.
  std::string StartRun() {
    Result<std::string> created = coordinator_.CreateRun(
        R"({"target": "http://127.0.0.1:9/x", "users": 2, "spawn_rate": 2, "duration": "30s"})");
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    std::string id = Json(*created)["id"].GetString();
    clock_.AdvanceNs(1'500'000'000);
    coordinator_.Tick();
    return id;
  }
  int64_t Requests(const std::string& run_id) {
    return Json(*coordinator_.GetRun(run_id, false))["totals"]["requests"].GetInt64();
  }

  FakeClock clock_{1'000'000'000'000};
  BusServer server_;
  Coordinator coordinator_{&server_, &clock_};
  std::string url_;
};

TEST_F(BusSecurityTest, WorkerWithTheKeyRegistersAndFramesFlowBothWays) {
  RawWorker w;
  Register(&w, "good");
  EXPECT_EQ(Live(), 1);
  EXPECT_EQ(server_.sessions(), 1u);
  EXPECT_EQ(server_.handshaking(), 0u);
}

TEST_F(BusSecurityTest, PeerWithoutTheKeyCannotRegisterAndIsClosedAfterTheDeadline) {
  auto intruder = std::make_unique<RawPeer>();
  ASSERT_TRUE(intruder->Dial(url_));
  std::optional<std::string> challenge = intruder->Recv();
  ASSERT_TRUE(challenge.has_value());
  EXPECT_TRUE(IsHandshakeMessage(*challenge, kBusChallengeBytes, kBusChallengeType));
  // It ignores the challenge and talks JSON, as a worker did before keys.
  ASSERT_TRUE(intruder->Send(EncodeMessage(Hello("intruder"))));
  ASSERT_TRUE(intruder->Send(EncodeMessage(HeartbeatMsg{"", 0, 0})));
  ASSERT_TRUE(WaitFor([&] { return server_.counters().strays >= 2; }));
  EXPECT_EQ(Listed(), 0u);
  EXPECT_EQ(Live(), 0);
  EXPECT_EQ(server_.handshaking(), 1u);
  // Still in handshake until the deadline, then closed.
  clock_.AdvanceNs((kHandshakeTimeoutMs - 100) * kNsPerMs);
  coordinator_.Tick();
  std::this_thread::sleep_for(
      std::chrono::milliseconds(150));  // two receive-loop wakeups
  EXPECT_EQ(intruder->removed(), 0);
  ExpireHandshakes();
  ASSERT_TRUE(intruder->WaitClosed()) << Describe(server_.counters());
  EXPECT_EQ(server_.counters().handshake_timeouts, 1u);
  intruder.reset();  // closed, so that a redial does not start a new handshake
  EXPECT_TRUE(WaitFor([&] { return server_.handshaking() == 0; }));
  EXPECT_EQ(Listed(), 0u);
}

TEST_F(BusSecurityTest, WrongKeyIsRefusedAtOnce) {
  RawWorker w;
  EXPECT_FALSE(w.Connect(url_, kOtherKey));  // no proof comes back
  ASSERT_TRUE(w.peer.WaitClosed()) << Describe(server_.counters());
  EXPECT_EQ(server_.counters().handshake_failures, 1u);
  EXPECT_EQ(Listed(), 0u);
  EXPECT_EQ(Live(), 0);
}

// A worker that connected before, then lost its link: nng delivers frames
// still in its send queue on the new connection before the response. They
// are dropped, and the handshake still succeeds.
TEST_F(BusSecurityTest, StaleFramesBeforeTheResponseAreDroppedNotFatal) {
  RawWorker w;
  ASSERT_TRUE(w.peer.Dial(url_));
  std::optional<std::string> challenge = w.peer.Recv();
  ASSERT_TRUE(challenge.has_value());
  ASSERT_TRUE(w.peer.Send(std::string(120, 's')));
  ClientHandshake handshake(kKey);
  ASSERT_TRUE(w.peer.Send(*handshake.Answer(*challenge)));
  std::optional<std::string> proof = w.peer.Recv();
  ASSERT_TRUE(proof.has_value());
  ASSERT_TRUE(handshake.Verify(*proof).ok());
  EXPECT_EQ(server_.counters().strays, 1u);
}

// Issue 14 item 2: key-less peers holding every handshake slot kept a
// restarted worker out for 31 s. Now a newcomer is admitted in place of the
// longest-waiting silent peer, at once, with no deadline passing.
TEST_F(BusSecurityTest, SilentPeersHoldingEverySlotCannotKeepAWorkerOut) {
  std::vector<std::unique_ptr<RawPeer>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawPeer>());
    ASSERT_TRUE(idle.back()->Dial(url_));
    ASSERT_TRUE(idle.back()->Recv().has_value());  // challenged
  }
  EXPECT_EQ(server_.handshaking(), 4u);
  RawWorker w;
  Register(&w, "restarted");
  EXPECT_EQ(server_.counters().evicted, 1u) << Describe(server_.counters());
  EXPECT_EQ(server_.counters().over_limit, 0u);
  ASSERT_TRUE(idle.front()->WaitClosed()) << "the oldest made way";
  EXPECT_EQ(server_.handshaking(), 3u);
  // The next one evicts the next oldest; the bound holds.
  auto fifth = std::make_unique<RawPeer>();
  ASSERT_TRUE(fifth->Dial(url_));
  ASSERT_TRUE(fifth->Recv().has_value());
  ASSERT_TRUE(WaitFor([&] { return server_.handshaking() == 4; }));
  ASSERT_TRUE(WaitFor([&] { return server_.counters().evicted == 1; }));
  idle.push_back(std::move(fifth));
  idle.push_back(std::make_unique<RawPeer>());
  ASSERT_TRUE(idle.back()->Dial(url_));
  ASSERT_TRUE(idle[1]->WaitClosed()) << Describe(server_.counters());
  EXPECT_EQ(server_.counters().evicted, 2u);
  EXPECT_EQ(server_.handshaking(), 4u);
  EXPECT_EQ(Live(), 1);
  ExpireHandshakes();
  for (auto& p : idle) EXPECT_TRUE(p->WaitClosed()) << Describe(server_.counters());
  idle.clear();  // closed, so that a redial does not start a new handshake
  EXPECT_TRUE(WaitFor([&] { return server_.handshaking() == 0; }));
  // Room again: a worker with the key gets in.
  RawWorker again;
  Register(&again, "after");
}

// Tampered frames inside an authenticated session: each closes the pipe,
// the coordinator sees the worker go, and the run's totals keep only the
// genuine stats.
TEST_F(BusSecurityTest, ReplayedTruncatedOrAlteredFramesCloseThePipe) {
  struct Case {
    const char* name;
    std::function<std::string(const std::string& genuine, RawWorker* w)> bad;
  };
  const Case cases[] = {
      {"replayed", [](const std::string& g, RawWorker*) { return g; }},
      {"truncated",
       [](const std::string& g, RawWorker*) { return g.substr(0, g.size() - 1); }},
      {"cut after the header",
       [](const std::string& g, RawWorker*) { return g.substr(0, kBusSeqBytes + 3); }},
      {"bit flipped",
       [](const std::string& g, RawWorker*) {
         std::string f = g;
         f[kBusSeqBytes + 4] ^= 0x20;
         return f;
       }},
      {"unframed JSON",
       [](const std::string&, RawWorker*) {
         return EncodeMessage(HeartbeatMsg{"", 0, 0});
       }},
      {"from an older session",
       [this](const std::string&, RawWorker*) {
         RawWorker old;
         EXPECT_TRUE(old.Connect(url_, kKey));
         return old.Seal(HeartbeatMsg{"", 0, 0});
       }},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawWorker w;
    Register(&w, "w" + std::to_string(n++));
    std::string run_id = StartRun();
    std::optional<AssignMsg> assign = w.RecvMsg<AssignMsg>();
    ASSERT_TRUE(assign.has_value());
    EXPECT_EQ(assign->run_id, run_id);
    std::string genuine = w.Seal(Stats(run_id, 10));
    ASSERT_TRUE(w.peer.Send(genuine));
    ASSERT_TRUE(WaitFor([&] { return Requests(run_id) == 10; }));
    uint64_t bad_before = server_.counters().bad_frames;
    ASSERT_TRUE(w.peer.Send(c.bad(genuine, &w)));
    ASSERT_TRUE(w.peer.WaitClosed()) << Describe(server_.counters());
    EXPECT_EQ(server_.counters().bad_frames, bad_before + 1);
    EXPECT_TRUE(WaitFor([&] { return Live() == 0; }));
    EXPECT_EQ(Requests(run_id), 10);
    coordinator_.StopRun(run_id);  // if losing its only worker has not ended it
    clock_.AdvanceNs(61 * kNsPerSec);
    coordinator_.Tick();
  }
}

TEST_F(BusSecurityTest, IntruderCannotInjectStats) {
  RawWorker w;
  Register(&w, "good");
  std::string run_id = StartRun();
  ASSERT_TRUE(w.RecvMsg<AssignMsg>().has_value());
  std::string genuine = w.Seal(Stats(run_id, 7));
  ASSERT_TRUE(w.peer.Send(genuine));
  ASSERT_TRUE(WaitFor([&] { return Requests(run_id) == 7; }));

  // Without the key: hello and stats in the clear, then the genuine frame
  // captured off the wire, replayed on its own connection.
  RawPeer intruder;
  ASSERT_TRUE(intruder.Dial(url_));
  ASSERT_TRUE(intruder.Recv().has_value());
  ASSERT_TRUE(intruder.Send(EncodeMessage(Hello("good"))));
  ASSERT_TRUE(intruder.Send(EncodeMessage(Stats(run_id, 1000))));
  ASSERT_TRUE(intruder.Send(genuine));
  ASSERT_TRUE(WaitFor([&] { return server_.counters().strays >= 3; }));
  ExpireHandshakes();
  ASSERT_TRUE(intruder.WaitClosed()) << Describe(server_.counters());
  EXPECT_EQ(Requests(run_id), 7);
  EXPECT_EQ(Listed(), 1u);
  // The genuine worker is unharmed: its next frame counts.
  ASSERT_TRUE(w.SendMsg(Stats(run_id, 3)));
  ASSERT_TRUE(WaitFor([&] { return Requests(run_id) == 10; }));
  EXPECT_EQ(w.peer.removed(), 0);
}

TEST_F(BusSecurityTest, RotatedKeyAppliesToNewConnectionsOnly) {
  RawWorker before;
  Register(&before, "before");
  const std::string rotated = "rotated-0123456789abcdef0123456789abcdef";
  server_.SetFleetKey(rotated);
  RawWorker stale;
  EXPECT_FALSE(stale.Connect(url_, kKey));
  ASSERT_TRUE(stale.peer.WaitClosed()) << Describe(server_.counters());
  RawWorker fresh;
  ASSERT_TRUE(fresh.Connect(url_, rotated));
  ASSERT_TRUE(fresh.SendMsg(Hello("fresh")));
  ASSERT_TRUE(fresh.RecvMsg<WelcomeMsg>().has_value());
  // The session that began under the old key carries on.
  ASSERT_TRUE(before.SendMsg(HeartbeatMsg{"", 0, 0}));
  clock_.AdvanceNs(kNsPerSec);
  coordinator_.Tick();
  EXPECT_TRUE(before.RecvMsg<PingMsg>().has_value());
  EXPECT_EQ(before.peer.removed(), 0);
  EXPECT_EQ(Live(), 2);
}

TEST_F(BusSecurityTest, RealBusClientRegistersWithRealServer) {
  BusClient client;
  BusClientOptions options;
  options.fleet_key = kKey;
  ASSERT_TRUE(client.Dial(url_, options).ok());
  ASSERT_TRUE(WaitFor([&] { return client.connected(); }));
  EXPECT_EQ(client.connection_epoch(), 1u);
  ASSERT_TRUE(client.Send(EncodeMessage(Hello("real"))).ok());
  std::string bytes;
  ASSERT_TRUE(WaitFor([&] { return client.TryRecv(&bytes); }));
  Result<Message> m = DecodeMessage(bytes);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(std::holds_alternative<WelcomeMsg>(*m));
  EXPECT_EQ(Live(), 1);
  client.Close();
  EXPECT_TRUE(WaitFor([&] { return Live() == 0; }));
}

TEST_F(BusSecurityTest, RealBusClientWithAnotherKeyNeverRegisters) {
  BusClient client;
  BusClientOptions options;
  options.fleet_key = kOtherKey;
  ASSERT_TRUE(client.Dial(url_, options).ok());
  ASSERT_TRUE(WaitFor([&] { return client.counters().handshake_failures >= 1; }));
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(client.connection_epoch(), 0u);
  EXPECT_EQ(client.Send(EncodeMessage(Hello("x"))).code(), StatusCode::kUnavailable);
  EXPECT_GE(server_.counters().handshake_failures, 1u);
  EXPECT_EQ(Listed(), 0u);
  // The client redials every 2 s: stop the server first, so that it is not
  // connecting while it closes (nanomsg/nng#1543).
  server_.Close();
}

// A fake coordinator (a raw listener) in front of a real BusClient: whatever
// it does without the key, the worker authenticates nothing and receives
// nothing.
TEST(FakeCoordinatorTest, CannotAuthenticateOrHandAWorkerMessages) {
  struct Case {
    const char* name;
    // Plays the fake coordinator on a new connection.
    std::function<void(RawPeer* fake)> play;
  };
  AssignMsg assign;
  assign.run_id = "evil";
  const std::string plain_stop = EncodeMessage(StopMsg{"r1"});
  const Case cases[] = {
      {"talks JSON without a handshake", [&](RawPeer* fake) { fake->Send(plain_stop); }},
      {"bogus proof",
       [&](RawPeer* fake) {
         auto h = ServerHandshake::Start(kOtherKey);
         fake->Send((*h)->Challenge());
         fake->Recv();  // the worker's response
         fake->Send(std::string("LDAU\x03", 5) + std::string(32, '\x7f'));
         fake->Send(plain_stop);
       }},
      {"replays a proof from another connection",
       [&](RawPeer* fake) {
         // A genuine exchange elsewhere yields a valid-looking proof for
         // other nonces.
         auto real = ServerHandshake::Start(kKey);
         ClientHandshake other(kKey);
         std::unique_ptr<BusSession> s;
         Result<std::string> proof =
             (*real)->Finish(*other.Answer((*real)->Challenge()), &s);
         auto h = ServerHandshake::Start(kKey);
         fake->Send((*h)->Challenge());
         fake->Recv();
         fake->Send(*proof);
         fake->Send(*s->Seal(plain_stop));
       }},
      {"coordinator of another fleet",
       [&](RawPeer* fake) {
         auto h = ServerHandshake::Start(kOtherKey);
         fake->Send((*h)->Challenge());
         std::optional<std::string> response = fake->Recv();
         std::unique_ptr<BusSession> s;
         EXPECT_FALSE((*h)->Finish(response.value_or(""), &s).ok());
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock(1'000'000'000'000);
    BusClient client;  // destroyed after the fake: it redials a closed port then
    RawPeer fake;
    std::string url = fake.Listen();
    BusClientOptions options;
    options.fleet_key = kKey;
    options.clock = &clock;
    options.handshake_timeout_ms = kHandshakeTimeoutMs;
    ASSERT_TRUE(client.Dial(url, options).ok());
    // Both ends have the connection (the client's handshake deadline runs
    // from its side's start, on the fake clock).
    ASSERT_TRUE(
        WaitFor([&] { return fake.added() >= 1 && client.counters().pipes_added >= 1; }));
    c.play(&fake);
    clock.AdvanceNs((kHandshakeTimeoutMs + 1) * kNsPerMs);  // whatever is left, ends
    BusClient::Counters counters = client.counters();
    ASSERT_TRUE(fake.WaitClosed())
        << "fake pipes added " << fake.added() << " removed " << fake.removed()
        << "; client failures " << counters.handshake_failures << " timeouts "
        << counters.handshake_timeouts << " pipes +" << counters.pipes_added << " -"
        << counters.pipes_removed << " stale " << counters.stale;
    counters = client.counters();
    EXPECT_GE(counters.handshake_failures + counters.handshake_timeouts, 1u);
    EXPECT_EQ(counters.authenticated, 0u);
    EXPECT_FALSE(client.connected());
    EXPECT_EQ(client.connection_epoch(), 0u);
    std::string bytes;
    EXPECT_FALSE(client.TryRecv(&bytes));
    EXPECT_EQ(client.Send(EncodeMessage(Hello("x"))).code(), StatusCode::kUnavailable);
  }
}

TEST(FakeCoordinatorTest, SilentPeerIsClosedAfterTheHandshakeDeadline) {
  FakeClock clock(1'000'000'000'000);
  BusClient client;  // destroyed after the fake: it redials a closed port then
  RawPeer fake;
  std::string url = fake.Listen();
  BusClientOptions options;
  options.fleet_key = kKey;
  options.clock = &clock;
  options.handshake_timeout_ms = kHandshakeTimeoutMs;
  ASSERT_TRUE(client.Dial(url, options).ok());
  ASSERT_TRUE(
      WaitFor([&] { return fake.added() >= 1 && client.counters().pipes_added >= 1; }));
  EXPECT_EQ(fake.removed(), 0);
  clock.AdvanceNs((kHandshakeTimeoutMs + 1) * kNsPerMs);
  ASSERT_TRUE(fake.WaitClosed());
  EXPECT_EQ(client.counters().handshake_timeouts, 1u);
}

TEST(BusTlsOptionsTest, CombinationsAreCheckedAndNameTheFlag) {
  struct Case {
    const char* name;
    std::string url;
    BusTlsOptions tls;
    bool server;
    const char* flag;  // nullptr: accepted (plain tcp, no TLS)
  };
  const Case cases[] = {
      {"plain tcp", "tcp://127.0.0.1:5557", {}, true, nullptr},
      {"plain tcp worker", "tcp://127.0.0.1:5557", {}, false, nullptr},
      {"tls files on plain tcp",
       "tcp://127.0.0.1:5557",
       {"c.pem", "k.pem", "", ""},
       true,
       "--bus-tls-cert"},
      {"ca on plain tcp worker",
       "tcp://127.0.0.1:5557",
       {"", "", "ca.pem", ""},
       false,
       "--bus-tls-ca"},
      {"coordinator without cert",
       "tls+tcp://127.0.0.1:5557",
       {},
       true,
       "--bus-tls-cert"},
      {"cert without key",
       "tls+tcp://127.0.0.1:5557",
       {"c.pem", "", "", ""},
       true,
       "--bus-tls-key"},
      {"worker without ca", "tls+tcp://127.0.0.1:5557", {}, false, "--bus-tls-ca"},
      {"server name on the coordinator",
       "tls+tcp://127.0.0.1:5557",
       {"c.pem", "k.pem", "", "x"},
       true,
       "--bus-tls-server-name"},
      {"missing cert file",
       "tls+tcp://127.0.0.1:5557",
       {"/nonexistent/c.pem", "/nonexistent/k.pem", "", ""},
       true,
       "--bus-tls-cert"},
      {"missing ca file",
       "tls+tcp://127.0.0.1:5557",
       {"", "", "/nonexistent/ca.pem", ""},
       false,
       "--bus-tls-ca"},
  };
  for (const Case& c : cases) {
    Result<nng_tls_config*> cfg = MakeBusTlsConfig(c.url, c.tls, c.server);
    if (c.flag == nullptr) {
      ASSERT_TRUE(cfg.ok()) << c.name << ": " << cfg.status().ToString();
      EXPECT_EQ(*cfg, nullptr) << c.name;
      continue;
    }
    ASSERT_FALSE(cfg.ok()) << c.name;
    EXPECT_EQ(cfg.status().path(), c.flag) << c.name << ": " << cfg.status().ToString();
  }
}

}  // namespace
}  // namespace loadd
