#include "daemon/target/target_session.h"

#include <gtest/gtest.h>

#include <string>

namespace loadd {
namespace {

constexpr int64_t kMs = kNsPerMs;
constexpr char kGet[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
constexpr char kOk[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n";

class SessionTest : public testing::Test {
 protected:
  void Feed(const std::string& bytes, int64_t now_ns = 0) {
    session_.Feed(bytes.data(), bytes.size(), now_ns);
  }
  // Writes out everything due at `now_ns`, at most `max_bytes`.
  std::string Take(int64_t now_ns = 0, size_t max_bytes = SIZE_MAX) {
    std::string out;
    for (int round = 0; round < 1000 && out.size() < max_bytes; ++round) {
      iovec iov[8];
      int count = session_.GatherOutput(now_ns, iov, 8);
      if (count == 0) break;
      size_t written = 0;
      for (int i = 0; i < count && out.size() < max_bytes; ++i) {
        size_t len = std::min(iov[i].iov_len, max_bytes - out.size());
        out.append(static_cast<const char*>(iov[i].iov_base), len);
        written += len;
      }
      session_.MarkWritten(written);
    }
    return out;
  }
  uint64_t Requests() const { return stats_.Snapshot().requests; }

  TargetStats stats_{1};
  SessionLimits limits_;
  DemoApi api_{TokenSigner(1, 2)};
  HttpSession session_{&stats_, stats_.shard(0), &api_, limits_};
};

TEST_F(SessionTest, AnswersOneRequestAndCountsIt) {
  Feed(kGet);
  EXPECT_EQ(Take(), kOk);
  EXPECT_EQ(Requests(), 1u);
  EXPECT_TRUE(session_.Idle());
  EXPECT_FALSE(session_.output_closed());
  EXPECT_TRUE(session_.WantsInput());
}

TEST_F(SessionTest, RequestSplitIntoSingleBytes) {
  for (char c : std::string(kGet)) Feed(std::string(1, c));
  EXPECT_EQ(Take(), kOk);
}

TEST_F(SessionTest, PartialWriteIsNotCounted) {
  Feed(kGet);
  EXPECT_EQ(Take(0, 10), std::string(kOk).substr(0, 10));
  EXPECT_EQ(Requests(), 0u);
  EXPECT_EQ(Take(), std::string(kOk).substr(10));
  EXPECT_EQ(Requests(), 1u);
}

TEST_F(SessionTest, PipelinedResponsesWaitForTheDelayedOneInOrder) {
  Feed(
      "GET /delay/10ms?status=201 HTTP/1.1\r\n\r\n"
      "GET /?status=202 HTTP/1.1\r\n\r\n"
      "GET /bytes/3 HTTP/1.1\r\n\r\n",
      100 * kMs);
  EXPECT_EQ(Take(105 * kMs), "");
  EXPECT_EQ(session_.NextDueNs(105 * kMs), 110 * kMs);
  std::string out = Take(110 * kMs);
  size_t first = out.find("HTTP/1.1 201");
  size_t second = out.find("HTTP/1.1 202");
  size_t third = out.find("HTTP/1.1 200");
  EXPECT_EQ(first, 0u);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(out.find("status 201\n"), std::string::npos);
  EXPECT_EQ(Requests(), 3u);
  EXPECT_EQ(session_.NextDueNs(110 * kMs), 0);
}

TEST_F(SessionTest, BodiesAreReadAndDiscarded) {
  Feed("POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  Feed("POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  Feed(kGet);
  EXPECT_EQ(Take(), std::string(kOk) + kOk + kOk);
}

TEST_F(SessionTest, BytesBodyIsFiller) {
  Feed("GET /bytes/100000 HTTP/1.1\r\n\r\n");
  std::string out = Take();
  size_t head_end = out.find("\r\n\r\n") + 4;
  EXPECT_NE(out.find("Content-Length: 100000\r\n"), std::string::npos);
  EXPECT_EQ(out.size() - head_end, 100000u);
  EXPECT_EQ(Requests(), 1u);
}

TEST_F(SessionTest, HeadGetsHeadersOnly) {
  Feed("HEAD /bytes/50 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(Take(),
            "HTTP/1.1 200 OK\r\nContent-Length: 50\r\nContent-Type: text/plain\r\n\r\n");
}

TEST_F(SessionTest, NoContentHasNoBody) {
  Feed("GET /?status=204 HTTP/1.1\r\n\r\n");
  Feed(kGet);
  EXPECT_EQ(Take(), std::string("HTTP/1.1 204 No Content\r\n\r\n") + kOk);
}

TEST_F(SessionTest, ConnectionCloseEndsTheSession) {
  Feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n" + std::string(kGet));
  std::string out = Take();
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(out.find("HTTP/1.1", 1), std::string::npos);  // the second is ignored
  EXPECT_TRUE(session_.output_closed());
  EXPECT_FALSE(session_.WantsInput());
  EXPECT_EQ(Requests(), 1u);
}

TEST_F(SessionTest, Http10ClosesUnlessKeepAlive) {
  Feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_NE(Take().find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_FALSE(session_.output_closed());
  Feed("GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(Take().find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(session_.output_closed());
}

TEST_F(SessionTest, MalformedRequestGets400AndCloses) {
  Feed(kGet);
  Feed("NOT HTTP AT ALL\r\n\r\n");
  std::string out = Take();
  EXPECT_EQ(out.rfind(kOk, 0), 0u);
  EXPECT_NE(out.find("HTTP/1.1 400 Bad Request\r\n"), std::string::npos);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(session_.output_closed());
  EXPECT_EQ(stats_.Snapshot().by_status.at(400), 1u);
}

TEST_F(SessionTest, OversizedHeaderGets431) {
  Feed("GET / HTTP/1.1\r\nX-Big: " + std::string(17 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(Take().rfind("HTTP/1.1 431 ", 0), 0u);
  EXPECT_TRUE(session_.output_closed());
}

TEST_F(SessionTest, HeaderJustUnderTheCapIsFine) {
  Feed("GET / HTTP/1.1\r\nX-Big: " + std::string(15 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(Take(), kOk);
}

TEST_F(SessionTest, HeaderCapIsPerRequestNotPerConnection) {
  std::string request = "GET / HTTP/1.1\r\nX-Pad: " + std::string(200, 'p') + "\r\n\r\n";
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    Feed(request);
    expected += kOk;
  }
  EXPECT_EQ(Take(), expected);
}

TEST_F(SessionTest, UpgradeIsAnsweredThenClosed) {
  Feed("GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nxyz");
  std::string out = Take();
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(session_.output_closed());
}

TEST_F(SessionTest, DeclaredBodyTooLargeGets413) {
  Feed("POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n");
  EXPECT_EQ(Take().rfind("HTTP/1.1 413 ", 0), 0u);
  EXPECT_TRUE(session_.output_closed());
}

TEST_F(SessionTest, ChunkedBodyTooLargeGets413) {
  Feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
  for (int i = 0; i < 17 && !session_.output_closed(); ++i) {
    Feed(chunk);
    Take();
  }
  EXPECT_TRUE(session_.output_closed());
  EXPECT_EQ(stats_.Snapshot().by_status.at(413), 1u);
}

TEST_F(SessionTest, ExpectContinueGetsInterimResponse) {
  Feed("POST / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(Take(), "HTTP/1.1 100 Continue\r\n\r\n");
  Feed("hi");
  EXPECT_EQ(Take(), kOk);
  EXPECT_EQ(Requests(), 1u);
}

TEST_F(SessionTest, StatsSeeEverythingWrittenBeforeThem) {
  Feed(std::string(kGet) +
       "GET /?status=503 HTTP/1.1\r\n\r\nGET /__stats HTTP/1.1\r\n\r\n");
  std::string out = Take();
  EXPECT_NE(out.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(out.find("{\"requests\": 2, \"by_status\": {\"200\": 1, \"503\": 1}"),
            std::string::npos);
  EXPECT_EQ(Requests(), 2u);  // /__stats itself is not counted
  Feed("POST /__reset HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_NE(Take().find("reset\n"), std::string::npos);
  EXPECT_EQ(Requests(), 0u);
}

TEST_F(SessionTest, ParsingPausesWhenTooManyResponsesWait) {
  std::string many;
  for (int i = 0; i < 200; ++i) many += "GET /delay/1ms HTTP/1.1\r\n\r\n";
  Feed(many, 0);
  EXPECT_FALSE(session_.WantsInput());
  EXPECT_FALSE(session_.CanResume());
  std::string out = Take(1 * kMs);
  EXPECT_TRUE(session_.CanResume());
  session_.Resume(1 * kMs);
  out += Take(2 * kMs);
  size_t responses = 0;
  for (size_t at = out.find("HTTP/1.1 200"); at != std::string::npos;
       at = out.find("HTTP/1.1 200", at + 1)) {
    ++responses;
  }
  EXPECT_EQ(responses, 200u);
  EXPECT_EQ(Requests(), 200u);
  EXPECT_TRUE(session_.Idle());
  EXPECT_TRUE(session_.WantsInput());
}

TEST_F(SessionTest, InputClosedStillAnswersQueuedRequests) {
  Feed("GET /delay/5ms HTTP/1.1\r\n\r\n");
  session_.OnInputClosed();
  EXPECT_FALSE(session_.Idle());
  EXPECT_EQ(Take(5 * kMs), kOk);
  EXPECT_TRUE(session_.Idle());
}

// The demo API through the session: the body, Authorization and, for /echo,
// every header reach DemoApi, split at any byte.
TEST_F(SessionTest, ApiRequestKeepsBodyAndAuthorizationAcrossSplits) {
  std::string token = api_.signer().Mint("alice");
  std::string request = "POST /items HTTP/1.1\r\nauthorization: Bearer " + token +
                        "\r\nContent-Length: 8\r\n\r\n{\"a\": 1}";
  for (char c : request) Feed(std::string(1, c));
  EXPECT_EQ(Take(),
            "HTTP/1.1 201 Created\r\nContent-Length: 28\r\nContent-Type: "
            "application/json\r\n\r\n{\"id\": 1, \"item\": {\"a\": 1}}\n");
  EXPECT_EQ(*api_.store().GetItem(1), "{\"a\": 1}");
  Feed("GET /items/1 HTTP/1.1\r\n\r\n");  // the next request keeps nothing of this one
  EXPECT_EQ(Take().rfind("HTTP/1.1 401 ", 0), 0u);
}

TEST_F(SessionTest, OverlongAuthorizationReadsAsAbsent) {
  std::string token = api_.signer().Mint("alice");
  Feed("GET /me HTTP/1.1\r\nAuthorization: Bearer " + token +
       std::string(kMaxKeptHeaderBytes, ' ') + "\r\n\r\n");
  EXPECT_EQ(Take().rfind("HTTP/1.1 401 ", 0), 0u);
  Feed("GET /me HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\n\r\n");
  EXPECT_EQ(Take().rfind("HTTP/1.1 200 ", 0), 0u);
}

TEST_F(SessionTest, EchoKeepsHeadersLowerCasedAndBounded) {
  std::string request = "GET /echo?q=1 HTTP/1.1\r\nX-Long-Header-Name-Here: v1\r\n";
  for (int i = 0; i < 100; ++i) request += "X-N" + std::to_string(i) + ": n\r\n";
  Feed(request + "\r\n");
  std::string out = Take();
  EXPECT_NE(out.find("\"x-long-header-name-here\": \"v1\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"x-n62\": \"n\""), std::string::npos);
  EXPECT_EQ(out.find("\"x-n63\""), std::string::npos);  // 64 headers at most
}

TEST_F(SessionTest, OtherExpectValueIsNotTakenForTheContentType) {
  Feed("POST /echo HTTP/1.1\r\nExpect: x\r\nContent-Length: 1\r\n\r\nz");
  EXPECT_NE(Take().find("Content-Type: application/octet-stream\r\n"), std::string::npos);
}

TEST_F(SessionTest, EchoCopiesBodyAndType) {
  Feed(
      "POST /echo HTTP/1.1\r\nContent-Type: text/x-demo\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(
      Take(),
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/x-demo\r\n\r\nabc");
}

TEST_F(SessionTest, WithoutApiItsPathsAreBuiltIn) {
  HttpSession plain(&stats_, stats_.shard(0), nullptr, limits_);
  std::string request = "POST /login HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
  plain.Feed(request.data(), request.size(), 0);
  iovec iov[4];
  int count = plain.GatherOutput(0, iov, 4);
  ASSERT_EQ(count, 1);
  EXPECT_EQ(std::string(static_cast<char*>(iov[0].iov_base), iov[0].iov_len), kOk);
}

}  // namespace
}  // namespace loadd
