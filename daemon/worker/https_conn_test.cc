// HTTPS on the native engine against an in-process TLS server with
// certificates made at test time: verification, host names, client
// certificates, keep-alive and resumption, responses cut into small TLS
// records, cookies, and which engine a plan runs on.
#include <gtest/gtest.h>

#include <map>

#include "common/clock.h"
#include "daemon/worker/engine.h"
#include "daemon/worker/tls_test_server.h"

namespace loadd {
namespace {

struct Pki {
  TestCa ca{"loadd test CA"};
  TestCa other{"some other CA"};
  PemPair server = ca.Issue("localhost", "IP:127.0.0.1,DNS:localhost");
  PemPair wrong_name = ca.Issue("elsewhere", "DNS:elsewhere.test");
  PemPair stranger = other.Issue("localhost", "IP:127.0.0.1");
  PemPair client = ca.Issue("loadd-client", "");
};

Pki& pki() {
  static Pki p;
  return p;
}

std::string Pem(const char* name, const std::string& content) {
  std::string escaped;
  for (char c : content) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  return std::string(R"({"name": ")") + name + R"(", "content": ")" + escaped + R"("})";
}

TlsServerOptions Serving(const PemPair& identity,
                         std::vector<std::string> alpn = {"http/1.1"}) {
  TlsServerOptions options;
  options.identity = identity;
  options.alpn = std::move(alpn);
  return options;
}

std::string CaOnly(const std::string& ca_pem) {
  return R"({"ca": )" + Pem("ca.pem", ca_pem) + "}";
}

struct Outcome {
  Status prepared;
  bool curl = false;
  int64_t requests = 0;
  int64_t failures = 0;
  ErrorCounts errors{};
  std::map<std::string, CheckCount> checks;
  int64_t ok() const { return requests - failures; }
  int64_t of(ErrorKind k) const { return errors[static_cast<int>(k)]; }
};

class HttpsConnTest : public ::testing::Test {
 protected:
  std::unique_ptr<TlsTestServer> Serve(TlsServerOptions options) {
    auto server = std::make_unique<TlsTestServer>(std::move(options));
    EXPECT_TRUE(server->Start());
    return server;
  }

  static std::string Url(const TlsTestServer& s, const std::string& path = "/") {
    return "https://127.0.0.1:" + std::to_string(s.port()) + path;
  }

  // A plan of `users` users for 400 ms on one worker (the whole share);
  // run false: Prepare() only.
  Outcome Run(const std::string& plan_json, EngineKind kind = EngineKind::kAuto,
              bool run = true) {
    Outcome out;
    Result<Plan> plan = ParsePlan(plan_json);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    if (!plan.ok()) return out;
    EventLoop loop;
    EXPECT_TRUE(loop.Init().ok());
    Engine engine(&loop, *plan, kind);
    out.prepared = engine.Prepare();
    out.curl = engine.uses_curl();
    if (!out.prepared.ok() || !run) return out;
    engine.set_on_done([&loop] { loop.Stop(); });
    engine.Start(MonotonicNowNs(), {ShareChange{true, 1, 0, 1, 0, -1}},
                 plan->HandoverRate());
    loop.Run();
    std::vector<EndpointStats> endpoints;
    engine.stats().Drain(&endpoints);
    for (const EndpointStats& e : endpoints) {
      out.requests += e.requests;
      out.failures += e.failures;
      for (size_t k = 0; k < e.errors.size(); ++k) out.errors[k] += e.errors[k];
    }
    std::vector<CheckCount> checks;
    engine.stats().DrainChecks(&checks);
    for (const CheckCount& c : checks) out.checks[c.name] = c;
    return out;
  }

  static std::string PlanJson(const std::string& url, const std::string& tls,
                              const std::string& extra = "") {
    return R"({"target": ")" + url +
           R"(", "users": 2, "duration": "400ms", "timeout": "2s",
               "tls": )" +
           tls + extra + "}";
  }
};

TEST_F(HttpsConnTest, RequestsOverTlsCountAndKeepTheirConnection) {
  auto server = Serve(Serving(pki().server));
  Outcome out = Run(PlanJson(Url(*server), CaOnly(pki().ca.cert_pem())));
  ASSERT_TRUE(out.prepared.ok()) << out.prepared.ToString();
  EXPECT_FALSE(out.curl) << "an http/1.1-only https target runs on the native engine";
  EXPECT_GT(out.ok(), 20);
  EXPECT_EQ(out.failures, 0);
  EXPECT_EQ(server->requests.load(), out.requests);
  EXPECT_EQ(server->accepts.load(), 2) << "one keep-alive connection per user";
  EXPECT_EQ(server->handshakes.load(), 2);
}

TEST_F(HttpsConnTest, CertificateProblemsAreConnectErrors) {
  struct Case {
    const char* name;
    PemPair identity;
    std::string tls;
  } cases[] = {
      {"signed by another CA", pki().stranger, CaOnly(pki().ca.cert_pem())},
      {"system CAs only", pki().server, R"({})"},
      {"host name not in the certificate", pki().wrong_name, CaOnly(pki().ca.cert_pem())},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto server = Serve(Serving(c.identity));
    Outcome out = Run(PlanJson(Url(*server), c.tls));
    ASSERT_TRUE(out.prepared.ok()) << out.prepared.ToString();
    EXPECT_GT(out.requests, 0);
    EXPECT_EQ(out.ok(), 0);
    EXPECT_EQ(out.of(ErrorKind::kConnect), out.requests);
    EXPECT_EQ(server->requests.load(), 0);
  }
}

TEST_F(HttpsConnTest, InsecureAcceptsAnyCertificate) {
  auto server = Serve(Serving(pki().wrong_name));
  Outcome out = Run(PlanJson(Url(*server), R"({"insecure": true})"));
  ASSERT_TRUE(out.prepared.ok()) << out.prepared.ToString();
  EXPECT_GT(out.ok(), 20);
  EXPECT_EQ(out.failures, 0);
}

TEST_F(HttpsConnTest, ResponsesCutIntoManyRecordsParse) {
  struct Case {
    size_t record_bytes;
    size_t body_bytes;
  } cases[] = {{7, 3000}, {0, 100000}, {1000, 70000}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.record_bytes) + "-byte records, body " +
                 std::to_string(c.body_bytes));
    TlsServerOptions options = Serving(pki().server);
    options.record_bytes = c.record_bytes;
    options.body = std::string(c.body_bytes - 7, 'x') + "THE END";
    auto server = Serve(options);
    std::string url = Url(*server);
    Outcome out = Run(R"({"target": ")" + url + R"(", "users": 2, "duration": "300ms",
        "tls": )" + CaOnly(pki().ca.cert_pem()) +
                      R"(, "scenarios": [{"steps": [{"name": "get",
        "path": "/", "checks": [{"status": 200}, {"body_contains": "THE END"}]}]}]})");
    ASSERT_TRUE(out.prepared.ok()) << out.prepared.ToString();
    EXPECT_GT(out.ok(), 3);
    EXPECT_EQ(out.failures, 0);
    EXPECT_EQ(out.checks["get: body contains \"THE END\""].passed, out.requests);
  }
}

TEST_F(HttpsConnTest, SecureCookiesGoBackOverHttps) {
  auto server = Serve(Serving(pki().server));
  Outcome out = Run(R"({"target": ")" + Url(*server, "") + R"(", "users": 2,
      "duration": "300ms", "tls": )" +
                    CaOnly(pki().ca.cert_pem()) + R"(,
      "scenarios": [{"steps": [{"name": "login", "path": "/login"},
                               {"name": "me", "path": "/me", "checks": [{"status": 200}]}]}]})");
  ASSERT_TRUE(out.prepared.ok()) << out.prepared.ToString();
  const CheckCount& me = out.checks["me: status == 200"];
  EXPECT_GT(me.passed, 5);
  EXPECT_EQ(me.failed, 0);
}

TEST_F(HttpsConnTest, ClientCertificateIsPresented) {
  TlsServerOptions options = Serving(pki().server);
  options.client_ca = pki().ca.cert_pem();
  auto server = Serve(options);
  std::string with_cert = R"({"ca": )" + Pem("ca.pem", pki().ca.cert_pem()) +
                          R"(, "cert": )" + Pem("client.pem", pki().client.cert) +
                          R"(, "key": )" + Pem("client.key", pki().client.key) + "}";
  Outcome out = Run(PlanJson(Url(*server), with_cert));
  ASSERT_TRUE(out.prepared.ok()) << out.prepared.ToString();
  EXPECT_GT(out.ok(), 20);
  EXPECT_EQ(out.failures, 0);

  Outcome without = Run(PlanJson(Url(*server), CaOnly(pki().ca.cert_pem())));
  EXPECT_GT(without.requests, 0);
  EXPECT_EQ(without.ok(), 0) << "the server refuses users without a certificate";
}

TEST_F(HttpsConnTest, KeyOfAnotherCertificateIsRefusedBeforeTheRun) {
  std::string tls = R"({"ca": )" + Pem("ca.pem", pki().ca.cert_pem()) + R"(, "cert": )" +
                    Pem("client.pem", pki().client.cert) + R"(, "key": )" +
                    Pem("server.key", pki().server.key) + "}";
  Outcome out =
      Run(PlanJson("https://127.0.0.1:9/", tls), EngineKind::kNative, /*run=*/false);
  EXPECT_EQ(out.prepared.path(), "$.tls.key") << out.prepared.ToString();
  EXPECT_NE(out.prepared.message().find("client.pem"), std::string::npos);
}

TEST_F(HttpsConnTest, ReconnectsResumeTheirSession) {
  TlsServerOptions options = Serving(pki().server);
  options.close_after_response = true;
  auto server = Serve(options);
  Outcome out = Run(PlanJson(Url(*server), CaOnly(pki().ca.cert_pem())));
  ASSERT_TRUE(out.prepared.ok()) << out.prepared.ToString();
  EXPECT_EQ(out.failures, 0);
  EXPECT_GT(server->handshakes.load(), 10)
      << "Connection: close makes every request reconnect";
  EXPECT_GE(server->resumed.load(), server->handshakes.load() - 4);
}

// Which engine runs a plan: native unless HTTP/2 is asked for, or offered
// (ALPN) by an https:// host while http_version is "auto".
TEST_F(HttpsConnTest, EngineFollowsWhatTheTargetOffers) {
  auto h2 = Serve(Serving(pki().server, {"h2", "http/1.1"}));
  auto h1 = Serve(Serving(pki().server));
  std::string tls = CaOnly(pki().ca.cert_pem());
  struct Case {
    const char* name;
    std::string plan;
    EngineKind kind;
    bool curl;
  } cases[] = {
      {"h2 offered", PlanJson(Url(*h2), tls), EngineKind::kAuto, true},
      {"h2 offered, 1.1 asked", PlanJson(Url(*h2), tls, R"(, "http_version": "1.1")"),
       EngineKind::kAuto, false},
      {"http/1.1 only", PlanJson(Url(*h1), tls), EngineKind::kAuto, false},
      {"h2 asked", PlanJson(Url(*h1), tls, R"(, "http_version": "2")"), EngineKind::kAuto,
       true},
      {"forced native", PlanJson(Url(*h2), tls), EngineKind::kNative, false},
      {"forced curl", PlanJson(Url(*h1), tls), EngineKind::kCurl, true},
      {"nothing listens", PlanJson("https://127.0.0.1:9/", tls), EngineKind::kAuto,
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Outcome out = Run(c.plan, c.kind, /*run=*/false);
    ASSERT_TRUE(out.prepared.ok()) << out.prepared.ToString();
    EXPECT_EQ(out.curl, c.curl);
  }
  Outcome refused =
      Run(PlanJson(Url(*h1), tls, R"(, "http_version": "2")"), EngineKind::kNative,
          /*run=*/false);
  EXPECT_EQ(refused.prepared.path(), "--engine");
}

}  // namespace
}  // namespace loadd
