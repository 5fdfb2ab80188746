// The allow list on the worker (common/host_allow_list.h): every address a
// plan host resolves to is checked before any socket connects, on the
// native engine and on libcurl. Hosts here resolve through a FakeResolver;
// refused ones resolve to 10.0.0.1, which no test ever connects to: the
// refusals happen in Prepare() (before any connection exists) or in the
// open-socket vet (before socket()).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>

#include "common/clock.h"
#include "daemon/worker/curl_conn.h"
#include "daemon/worker/engine.h"
#include "daemon/worker/fake_resolver.h"
#include "daemon/worker/fake_target.h"

namespace loadd {
namespace {

// 10 ms per answer: a closed-model user never loops at one instant.
FakeResponse Ok(const std::string&, int64_t) {
  FakeResponse r;
  r.service_ns = 10 * kNsPerMs;
  return r;
}

class EngineAllowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.Init().ok());
    resolver_.Add("api.test", "127.0.0.1");
    resolver_.Add("rebound.test", "10.0.0.1");
    resolver_.Add("trusted.test", "10.0.0.1");
  }

  // An engine for the plan, its connections counted (none may exist before
  // Prepare() has checked every address).
  std::unique_ptr<Engine> MakeEngine(const std::string& plan_json, EngineKind kind) {
    Result<Plan> plan = ParsePlan(plan_json);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    auto engine = std::make_unique<Engine>(&loop_, *plan, kind);
    ConnectionFactory inner = target_.Factory();
    engine->set_connection_factory([this, inner](Engine* e, ExchangeOwner* owner) {
      ++connections_;
      return inner(e, owner);
    });
    engine->set_resolver(&resolver_);
    Result<HostAllowList> list = HostAllowList::Parse(
        {"api.test", "rebound.test", "trusted.test=any", "127.0.0.0/8"});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    engine->set_allow_list(*list);
    return engine;
  }

  using ConnectionFactory = Engine::ConnectionFactory;
  FakeClock clock_{5000 * kNsPerSec};
  EventLoop loop_{&clock_};
  FakeTarget target_{Ok};
  FakeResolver resolver_;
  int connections_ = 0;
};

std::string PlanFor(const std::string& url) {
  return R"({"target": "http://127.0.0.1:9", "users": 2, "duration": "200ms",
      "requests": [{"url": "http://127.0.0.1:9/"}, {"url": ")" +
         url + R"("}]})";
}

TEST_F(EngineAllowTest, NativeRefusesAnAllowedNameResolvedOutsideTheList) {
  std::unique_ptr<Engine> engine =
      MakeEngine(PlanFor("http://rebound.test:9/x"), EngineKind::kNative);
  Status st = engine->Prepare();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("host rebound.test resolved to 10.0.0.1"),
            std::string::npos)
      << st.ToString();
  EXPECT_NE(st.message().find("rebound.test=any"), std::string::npos) << st.ToString();
  EXPECT_EQ(connections_, 0);
  EXPECT_EQ(target_.answered, 0);
}

TEST_F(EngineAllowTest, CurlRefusesAnAllowedNameResolvedOutsideTheList) {
  std::unique_ptr<Engine> engine =
      MakeEngine(PlanFor("http://rebound.test:9/x"), EngineKind::kCurl);
  Status st = engine->Prepare();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("host rebound.test resolved to 10.0.0.1"),
            std::string::npos)
      << st.ToString();
  EXPECT_EQ(connections_, 0);
  EXPECT_EQ(resolver_.lookups,
            (std::vector<std::string>{"127.0.0.1:9", "rebound.test:9"}))
      << "libcurl's hosts resolve through the engine's Resolver";
}

TEST_F(EngineAllowTest, ScenarioStepsAreCheckedToo) {
  for (EngineKind kind : {EngineKind::kNative, EngineKind::kCurl}) {
    std::unique_ptr<Engine> engine = MakeEngine(R"({"users": 1, "duration": "1s",
        "scenarios": [{"name": "s", "steps": [{"url": "http://api.test:9/a"},
                                             {"url": "http://rebound.test:9/b"}]}]})",
                                                kind);
    Status st = engine->Prepare();
    EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
    EXPECT_NE(st.message().find("10.0.0.1"), std::string::npos) << st.ToString();
  }
  EXPECT_EQ(connections_, 0);
}

TEST_F(EngineAllowTest, AnAllowedNameAtAnAllowedAddressRuns) {
  std::unique_ptr<Engine> engine =
      MakeEngine(PlanFor("http://api.test:9/x"), EngineKind::kNative);
  ASSERT_TRUE(engine->Prepare().ok());
  engine->set_on_done([this] { loop_.Stop(); });
  int64_t start_ns = clock_.NowNs() + 10 * kNsPerMs;
  engine->Start(start_ns, {ShareChange{true, 1, 0, 1, 0, -1}}, 1);
  ASSERT_TRUE(RunInVirtualTime(&loop_, &clock_, start_ns + 60 * kNsPerSec));
  EXPECT_GT(target_.answered, 0);
  EXPECT_GT(connections_, 0);
}

TEST_F(EngineAllowTest, ResolveAnyEntriesLetTheirNamesResolveAnywhere) {
  // Prepared only: nothing is started, nothing connects to 10.0.0.1.
  for (EngineKind kind : {EngineKind::kNative, EngineKind::kCurl}) {
    std::unique_ptr<Engine> engine = MakeEngine(PlanFor("http://trusted.test:9/x"), kind);
    Status st = engine->Prepare();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  EXPECT_EQ(connections_, 0);
}

TEST_F(EngineAllowTest, CurlHostsArePinnedToTheCheckedAddresses) {
  resolver_.Add("v6.test", "::1");
  Result<Plan> plan = ParsePlan(R"({"target": "http://api.test:9", "users": 1,
      "requests": [{"url": "http://api.test:9/a"}, {"url": "http://v6.test:8/b"},
                   {"url": "http://127.0.0.1:9/c"}]})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  Engine engine(&loop_, *plan, EngineKind::kCurl);
  engine.set_resolver(&resolver_);
  engine.set_allow_list(
      *HostAllowList::Parse({"api.test", "v6.test", "127.0.0.0/8", "::1"}));
  ASSERT_TRUE(engine.Prepare().ok());
  std::vector<std::string> pinned;
  for (curl_slist* s = engine.curl_resolve(); s != nullptr; s = s->next)
    pinned.push_back(s->data);
  EXPECT_EQ(pinned,
            (std::vector<std::string>{"api.test:9:127.0.0.1", "v6.test:8:[::1]"}));
}

// What libcurl hands the open-socket callback.
curl_sockaddr SockaddrOf(const char* ip, int port) {
  curl_sockaddr out{};
  out.family = AF_INET;
  out.socktype = SOCK_STREAM;
  out.protocol = IPPROTO_TCP;
  out.addrlen = sizeof(sockaddr_in);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(inet_pton(AF_INET, ip, &in.sin_addr), 1);
  std::memcpy(&out.addr, &in, sizeof in);
  return out;
}

TEST_F(EngineAllowTest, CurlSocketsOutsideTheListAreRefusedBeforeSocket) {
  Result<Plan> plan = ParsePlan(R"({"target": "http://trusted.test:9", "users": 1})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  Engine engine(&loop_, *plan, EngineKind::kCurl);
  engine.set_resolver(&resolver_);
  engine.set_allow_list(*HostAllowList::Parse({"trusted.test=any", "127.0.0.0/8"}));
  ASSERT_TRUE(engine.Prepare().ok());
  // Where trusted.test was checked and pinned (10.0.0.1:9), and loopback,
  // get a socket (never connected here); anything else does not.
  for (auto [ip, port] : {std::pair{"10.0.0.1", 9}, std::pair{"127.0.0.1", 80}}) {
    curl_sockaddr ok = SockaddrOf(ip, port);
    curl_socket_t fd = VetAndOpenCurlSocket(&engine, CURLSOCKTYPE_IPCXN, &ok);
    EXPECT_NE(fd, CURL_SOCKET_BAD) << ip << ":" << port;
    if (fd != CURL_SOCKET_BAD) close(fd);
  }
  for (auto [ip, port] : {std::pair{"10.0.0.1", 10}, std::pair{"10.0.0.2", 9},
                          std::pair{"192.168.1.1", 80}}) {
    curl_sockaddr bad = SockaddrOf(ip, port);
    EXPECT_EQ(VetAndOpenCurlSocket(&engine, CURLSOCKTYPE_IPCXN, &bad), CURL_SOCKET_BAD)
        << ip << ":" << port;
  }
  EXPECT_EQ(engine.refused_connects(), 3);
}

}  // namespace
}  // namespace loadd
