// The fleet bus against intruders, over real nng sockets on loopback: a real
// BusServer + Coordinator (FakeClock), raw nng pair1 sockets playing peers
// without the key, a raw peer that knows the key (to capture and replay its
// own frames), and fake coordinators in front of a real BusClient.
//
// Waits are for network events, bounded by a real-time deadline; every
// timeout (handshake deadlines) runs on the fake clock.
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <functional>
#include <optional>
#include <thread>

#include "common/bus_auth.h"
#include "common/bus_tls.h"
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

// A raw nng pair1 socket: sends and receives bytes as they are.
class RawPeer {
 public:
  RawPeer() {
    EXPECT_EQ(nng_pair1_open(&socket_), 0);
    nng_socket_set_size(socket_, NNG_OPT_RECVMAXSZ, 0);
    // Keep reading, so a closed connection is noticed even when the test
    // leaves messages unread.
    nng_socket_set_int(socket_, NNG_OPT_RECVBUF, 1024);
    nng_pipe_notify(socket_, NNG_PIPE_EV_ADD_POST, OnPipe, this);
    nng_pipe_notify(socket_, NNG_PIPE_EV_REM_POST, OnPipe, this);
  }
  ~RawPeer() { nng_close(socket_); }

  // Connects once. nng would redial after a random share of the reconnect
  // time; it is made so long that no redial happens within a test: closing
  // a socket while it redials can hang nng 1.5 (nanomsg/nng#1543).
  bool Dial(const std::string& url) {
    nng_dialer d;
    if (nng_dialer_create(&d, socket_, url.c_str()) != 0) return false;
    nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, INT32_MAX);
    nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, INT32_MAX);
    return nng_dialer_start(d, 0) == 0;
  }
  // Listens on a free loopback port; returns its URL.
  std::string Listen() {
    nng_listener l;
    EXPECT_EQ(nng_listen(socket_, "tcp://127.0.0.1:0", &l, 0), 0);
    int port = 0;
    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    return "tcp://127.0.0.1:" + std::to_string(port);
  }
  bool Send(std::string_view bytes) {
    return nng_send(socket_, const_cast<char*>(bytes.data()), bytes.size(), 0) == 0;
  }
  // The next message; nullopt once the connection is closed (or after 3 s).
  std::optional<std::string> Recv() {
    std::optional<std::string> out;
    WaitFor(
        [&] {
          char* buf = nullptr;
          size_t size = 0;
          if (nng_recv(socket_, &buf, &size, NNG_FLAG_ALLOC | NNG_FLAG_NONBLOCK) == 0) {
            out.emplace(buf, size);
            nng_free(buf, size);
          }
          return out.has_value() || removed_.load() > 0;
        },
        3);
    return out;
  }
  int added() const { return added_.load(); }
  int removed() const { return removed_.load(); }
  bool WaitClosed() {
    return WaitFor([this] { return removed_.load() > 0; });
  }

 private:
  static void OnPipe(nng_pipe, nng_pipe_ev ev, void* self) {
    auto* p = static_cast<RawPeer*>(self);
    (ev == NNG_PIPE_EV_ADD_POST ? p->added_ : p->removed_)++;
  }
  nng_socket socket_ = NNG_SOCKET_INITIALIZER;
  std::atomic<int> added_{0}, removed_{0};
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
    options.handshake_timeout_ms = kHandshakeTimeoutMs;
    options.max_handshakes = 4;
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
  ASSERT_TRUE(intruder->WaitClosed());
  EXPECT_EQ(server_.counters().handshake_timeouts, 1u);
  intruder.reset();  // closed, so that a redial does not start a new handshake
  EXPECT_TRUE(WaitFor([&] { return server_.handshaking() == 0; }));
  EXPECT_EQ(Listed(), 0u);
}

TEST_F(BusSecurityTest, WrongKeyIsRefusedAtOnce) {
  RawWorker w;
  EXPECT_FALSE(w.Connect(url_, kOtherKey));  // no proof comes back
  ASSERT_TRUE(w.peer.WaitClosed());
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

TEST_F(BusSecurityTest, HandshakesInProgressAreBounded) {
  std::vector<std::unique_ptr<RawPeer>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawPeer>());
    ASSERT_TRUE(idle.back()->Dial(url_));
    ASSERT_TRUE(idle.back()->Recv().has_value());  // challenged
  }
  EXPECT_EQ(server_.handshaking(), 4u);
  {
    RawPeer fifth;
    fifth.Dial(url_);
    ASSERT_TRUE(WaitFor([&] { return server_.counters().over_limit >= 1; }));
    EXPECT_EQ(server_.handshaking(), 4u);
  }  // closed, so that it does not redial
  ExpireHandshakes();
  for (auto& p : idle) EXPECT_TRUE(p->WaitClosed());
  idle.clear();  // closed, so that a redial does not start a new handshake
  EXPECT_TRUE(WaitFor([&] { return server_.handshaking() == 0; }));
  // Room again: a worker with the key gets in.
  RawWorker w;
  Register(&w, "after");
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
    ASSERT_TRUE(w.peer.WaitClosed()) << w.peer.added() << " " << w.peer.removed();
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
  ASSERT_TRUE(intruder.WaitClosed());
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
  ASSERT_TRUE(stale.peer.WaitClosed());
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
    ASSERT_TRUE(WaitFor([&] { return fake.added() >= 1; }));
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
  ASSERT_TRUE(WaitFor([&] { return fake.added() >= 1; }));
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
