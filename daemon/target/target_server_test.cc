// Runs a real TargetServer on 127.0.0.1 (port 0) and talks to it through
// raw sockets.
#include "daemon/target/target_server.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "daemon/target/target_test_client.h"

namespace loadd {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::steady_clock;

class TargetServerTest : public testing::Test {
 protected:
  void SetUp() override {
    TargetOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    server_ = std::make_unique<TargetServer>(options);
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->address().port();
    ASSERT_NE(port_, 0);
  }

  rapidjson::Document FetchStats() {
    Client client(port_);
    Reply reply = client.Get("/__stats");
    rapidjson::Document doc;
    doc.Parse(reply.body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << reply.body;
    return doc;
  }

  std::unique_ptr<TargetServer> server_;
  uint16_t port_ = 0;
};

TEST_F(TargetServerTest, AddressIsLoopbackWithRealPort) {
  EXPECT_EQ(server_->address().ToString(), "127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(server_->threads(), 2);
}

TEST_F(TargetServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  Client client(port_);
  ASSERT_TRUE(client.connected());
  Reply first = client.Get("/");
  Reply second = client.Get("/anything");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "ok\n");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "ok\n");
}

TEST_F(TargetServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Client client(port_);
  ASSERT_TRUE(
      client.Send("GET /delay/15ms?status=201 HTTP/1.1\r\n\r\n"
                  "GET /?status=202 HTTP/1.1\r\n\r\n"
                  "GET /bytes/100000 HTTP/1.1\r\n\r\n"
                  "GET /?status=203 HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(client.Read().status, 201);
  EXPECT_EQ(client.Read().status, 202);
  Reply bytes = client.Read();
  EXPECT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body.size(), 100000u);
  EXPECT_EQ(client.Read().status, 203);
}

TEST_F(TargetServerTest, DelayIsServedAfterItsDuration) {
  Client client(port_);
  std::vector<int64_t> latencies_us;
  for (int i = 0; i < 30; ++i) {
    auto start = steady_clock::now();
    Reply reply = client.Get("/delay/20ms");
    latencies_us.push_back(
        duration_cast<microseconds>(steady_clock::now() - start).count());
    ASSERT_EQ(reply.status, 200);
  }
  std::sort(latencies_us.begin(), latencies_us.end());
  EXPECT_GE(latencies_us.front(), 20000);
  EXPECT_LT(latencies_us.back(), 40000);
  std::printf("/delay/20ms: min %lldus, max %lldus\n",
              static_cast<long long>(latencies_us.front()),
              static_cast<long long>(latencies_us.back()));
}

TEST_F(TargetServerTest, StatusParameter) {
  Client client(port_);
  Reply reply = client.Get("/some/path?status=503");
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body, "status 503\n");
}

TEST_F(TargetServerTest, StatsCountExactlyWhatWasServed) {
  {
    Client client(port_);
    EXPECT_EQ(client.Send("POST /__reset HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), true);
    EXPECT_EQ(client.Read().status, 200);
  }
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this] {
      Client client(port_);
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_EQ(client.Get(i % 10 == 0 ? "/?status=503" : "/").status,
                  i % 10 == 0 ? 503 : 200);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  rapidjson::Document stats = FetchStats();
  EXPECT_EQ(stats["requests"].GetUint64(), uint64_t{kThreads * kPerThread});
  EXPECT_EQ(stats["by_status"]["200"].GetUint64(),
            uint64_t{kThreads * kPerThread * 9 / 10});
  EXPECT_EQ(stats["by_status"]["503"].GetUint64(), uint64_t{kThreads * kPerThread / 10});
  EXPECT_EQ(stats["by_status"].MemberCount(), 2u);
  EXPECT_EQ(server_->Stats().requests, uint64_t{kThreads * kPerThread});
}

int64_t WallNowMs() {
  timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  return int64_t{wall.tv_sec} * 1000 + wall.tv_nsec / 1'000'000;
}

TEST_F(TargetServerTest, StatsTellWhenTheLastRequestArrived) {
  EXPECT_EQ(FetchStats()["last_request_unix_ms"].GetInt64(), 0) << "no request yet";
  int64_t before_ms = WallNowMs();
  {
    Client client(port_);
    // Arrival, not completion, counts: the delayed answer ends 300 ms later.
    EXPECT_EQ(client.Get("/delay/300ms").status, 200);
  }
  int64_t after_ms = WallNowMs();
  int64_t last_ms = FetchStats()["last_request_unix_ms"].GetInt64();
  EXPECT_GE(last_ms, before_ms - 1);
  EXPECT_LE(last_ms, after_ms - 250);
  // /__stats itself is not a request the target counts.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // (Converting the monotonic arrival time to wall clock may move it by 1 ms.)
  EXPECT_NEAR(FetchStats()["last_request_unix_ms"].GetInt64(), last_ms, 1);
}

TEST_F(TargetServerTest, ConnectionCountersCount) {
  server_->ResetStats();
  {
    Client a(port_);
    Client b(port_);
    EXPECT_EQ(a.Get("/").status, 200);
    EXPECT_EQ(b.Get("/").status, 200);
    EXPECT_EQ(server_->Stats().connections_open, 2);
  }
  rapidjson::Document stats = FetchStats();  // a third connection
  EXPECT_EQ(stats["connections_accepted"].GetUint64(), 3u);
  EXPECT_GE(stats["connections_open"].GetInt64(), 1);
}

TEST_F(TargetServerTest, ClientGoneBeforeDelayedResponseIsNotCounted) {
  server_->ResetStats();
  {
    Client client(port_);
    ASSERT_TRUE(client.Send("GET /delay/30ms HTTP/1.1\r\n\r\n"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  TargetStatsSnapshot stats = server_->Stats();
  EXPECT_EQ(stats.requests, 0u);
  EXPECT_EQ(stats.connections_open, 0);
}

TEST_F(TargetServerTest, OversizedHeaderGets431AndClose) {
  Client client(port_);
  ASSERT_TRUE(
      client.Send("GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
  Reply reply = client.Read();
  EXPECT_EQ(reply.status, 431);
  EXPECT_NE(reply.head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(client.ReadsEof());
}

TEST_F(TargetServerTest, MalformedRequestGets400AndClose) {
  Client client(port_);
  ASSERT_TRUE(client.Send("GARBAGE\x01\x02 / HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(client.Read().status, 400);
  EXPECT_TRUE(client.ReadsEof());
}

TEST_F(TargetServerTest, OversizedBodyGets413AndClose) {
  Client client(port_);
  ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n" +
                          std::string(100000, 'x')));
  EXPECT_EQ(client.Read().status, 413);
  EXPECT_TRUE(client.ReadsEof());
}

TEST_F(TargetServerTest, Http10ClosesAfterTheResponse) {
  Client client(port_);
  ASSERT_TRUE(client.Send("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(client.Read().status, 200);
  EXPECT_TRUE(client.ReadsEof());
}

TEST_F(TargetServerTest, HalfClosedClientStillGetsImmediateAnswers) {
  Client client(port_);
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\n\r\nGET /?status=202 HTTP/1.1\r\n\r\n"));
  client.ShutdownWrite();
  EXPECT_EQ(client.Read().status, 200);
  EXPECT_EQ(client.Read().status, 202);
  EXPECT_TRUE(client.ReadsEof());  // answered, then closed
}

TEST_F(TargetServerTest, StopReturnsPromptly) {
  Client idle(port_);
  Client waiting(port_);
  ASSERT_TRUE(waiting.Send("GET /delay/10s HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(idle.Get("/").status, 200);
  auto start = steady_clock::now();
  server_->Stop();
  server_->Wait();
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_TRUE(waiting.ReadsEof());
  Client late(port_);
  EXPECT_FALSE(late.connected());
}

TEST(TargetServerLimitsTest, ConnectionsAboveTheCapAreClosed) {
  TargetOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  options.loop.max_connections = 2;
  TargetServer server(options);
  ASSERT_TRUE(server.Start().ok());
  uint16_t port = server.address().port();
  Client a(port);
  Client b(port);
  EXPECT_EQ(a.Get("/").status, 200);
  EXPECT_EQ(b.Get("/").status, 200);
  Client c(port);
  EXPECT_EQ(c.Get("/").status, -1);
  a.Close();
  for (int i = 0; i < 100 && server.Stats().connections_open > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Client d(port);
  EXPECT_EQ(d.Get("/").status, 200);
}

TEST_F(TargetServerTest, SecondServerOnTheSamePortFailsToStart) {
  TargetOptions options;
  options.listen = server_->address().ToString();
  TargetServer second(options);
  Status status = second.Start();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("in use"), std::string::npos) << status.ToString();
}

TEST(TargetServerLimitsTest, BadListenAddressFailsStart) {
  TargetOptions options;
  options.listen = "example.com:80";
  TargetServer server(options);
  Status status = server.Start();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.path(), "--listen");
}

}  // namespace
}  // namespace loadd
