#include "daemon/coordinator/rest_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace loadd {
namespace {

namespace Http = Pistache::Http;

constexpr size_t kMaxRequestBytes = (size_t{9} << 20) + kMaxRestHeaderBytes;

// A reader whose check records what it saw and answers `verdict`.
struct Harness {
  explicit Harness(Status verdict = Status::Ok())
      : reader(kMaxRequestBytes,
               [this, verdict](const RestRequest& req, size_t length, BodyLease*) {
                 checks.push_back(req.resource + " " + std::to_string(length));
                 return verdict;
               }) {}

  RequestReader::Fed Feed(const std::string& bytes, size_t chunk = 1 << 20) {
    RequestReader::Fed fed{RequestReader::Event::kAgain, 0};
    size_t at = 0;
    while (at < bytes.size()) {
      size_t n = std::min(chunk, bytes.size() - at);
      fed = reader.Feed(bytes.data() + at, n);
      at += fed.used_bytes;
      if (fed.event != RequestReader::Event::kAgain) {
        fed.used_bytes = at;
        return fed;
      }
    }
    fed.used_bytes = at;
    return fed;
  }

  std::vector<std::string> checks;
  RequestReader reader;
};

TEST(RequestReader, ChecksTheHeadersBeforeReadingAnyOfTheBody) {
  Harness h(Status(StatusCode::kUnauthenticated, "no token"));
  std::string head =
      "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 9437184\r\n\r\n";
  std::string body(size_t{1} << 20, 'x');
  RequestReader::Fed fed = h.Feed(head + body);
  EXPECT_EQ(fed.event, RequestReader::Event::kRefused);
  EXPECT_EQ(h.checks, std::vector<std::string>{"/healthz 9437184"});
  // Pistache was given the headers and at most one piece of what followed.
  EXPECT_LE(fed.used_bytes, head.size() + kFeedBytes);
  EXPECT_EQ(h.reader.refusal().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(h.reader.linger_bytes(), 0u);  // a stranger's body: close at once
  // Everything after a refusal is refused.
  EXPECT_EQ(h.reader.Feed("GET / HTTP/1.1\r\n\r\n", 18).event,
            RequestReader::Event::kRefused);
}

TEST(RequestReader, OtherRefusalsLingerForTheRestOfTheDeclaredBody) {
  Harness h(Status(StatusCode::kResourceExhausted, "too large"));
  std::string head = "POST /v1/runs HTTP/1.1\r\nContent-Length: 100000\r\n\r\n";
  RequestReader::Fed fed = h.Feed(head + std::string(1000, 'x'));
  EXPECT_EQ(fed.event, RequestReader::Event::kRefused);
  EXPECT_EQ(h.reader.linger_bytes(), 100000u - 1000u);
}

TEST(RequestReader, ReadsABodyOnlyAfterTheCheckPassed) {
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{1} << 20}) {
    Harness h;
    RequestReader::Fed fed =
        h.Feed("POST /v1/runs HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", chunk);
    ASSERT_EQ(fed.event, RequestReader::Event::kRequest) << chunk;
    EXPECT_EQ(h.reader.body(), "hello");
    EXPECT_EQ(h.checks, std::vector<std::string>{"/v1/runs 5"});
  }
}

// Pistache reads one byte past its buffer when that ends with a CR (found
// by rest_fuzz): the reader gives it a CR only with the byte after it, but
// never holds back a body's last bytes.
TEST(RequestReader, TrailingCrsWaitForTheNextByteOnlyInTheHead) {
  Harness h;
  for (const char* piece : {"GET / HTTP/1.1\r", "\n\r"}) {
    EXPECT_EQ(h.reader.Feed(piece, std::strlen(piece)).event,
              RequestReader::Event::kAgain)
        << piece;
  }
  EXPECT_EQ(h.reader.Feed("\n", 1).event, RequestReader::Event::kRequest);
  Harness body;
  RequestReader::Fed fed =
      body.Feed("POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n\r\r", 1);
  ASSERT_EQ(fed.event, RequestReader::Event::kRequest);
  EXPECT_EQ(body.reader.body(), "\r\r");
}

// The reader takes the body itself: wherever the input is cut (the head's
// end, a CR, the body's end), the body is exactly its Content-Length and the
// request after it is read in turn.
TEST(RequestReader, TakesExactlyTheDeclaredBodyWhereverTheInputIsCut) {
  std::string body = "\r\n{\"a\": \"b\"}\r\r\n" + std::string(5000, 'x') + "\r";
  std::string first =
      "POST /v1/runs HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  std::string both = first + "GET /healthz HTTP/1.1\r\n\r\n";
  for (size_t chunk :
       {size_t{1}, size_t{2}, size_t{3}, size_t{61}, size_t{62}, size_t{63}, size_t{4095},
        size_t{4096}, size_t{4097}, both.size()}) {
    Harness h;
    RequestReader::Fed fed = h.Feed(both, chunk);
    ASSERT_EQ(fed.event, RequestReader::Event::kRequest) << chunk;
    EXPECT_EQ(fed.used_bytes, first.size()) << chunk;
    EXPECT_EQ(h.reader.body(), body) << chunk;
    h.reader.Next();
    fed = h.Feed(both.substr(first.size()), chunk);
    ASSERT_EQ(fed.event, RequestReader::Event::kRequest) << chunk;
    EXPECT_EQ(h.reader.request().resource, "/healthz");
    EXPECT_EQ(h.reader.body(), "");
  }
}

// Pistache keeps one value per query parameter name; GET /v1/runs filters
// by repeated label=K=V parameters.
TEST(RequestReader, KeepsTheQueryInOrderWithRepeatsAndThePeer) {
  RequestReader reader(kMaxRequestBytes, nullptr, "10.1.2.3");
  std::string request =
      "GET /v1/runs?label=branch%3Dmain&label=commit=abc&state=finished HTTP/1.1\r\n"
      "Authorization: Bearer t\r\n\r\n";
  ASSERT_EQ(reader.Feed(request.data(), request.size()).event,
            RequestReader::Event::kRequest);
  const RestRequest& req = reader.request();
  EXPECT_EQ(req.resource, "/v1/runs");
  EXPECT_EQ(req.peer, "10.1.2.3");
  EXPECT_EQ(req.QueryAll("label"),
            (std::vector<std::string>{"branch=main", "commit=abc"}));
  EXPECT_EQ(req.Query("state"), "finished");
  EXPECT_EQ(req.Header("authorization"), "Bearer t");
}

TEST(RequestReader, PipelinedRequestsAreReadInTurn) {
  Harness h;
  std::string first = "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nok";
  std::string second = "GET /b HTTP/1.1\r\n\r\n";
  std::string both = first + second;
  RequestReader::Fed fed = h.reader.Feed(both.data(), both.size());
  ASSERT_EQ(fed.event, RequestReader::Event::kRequest);
  EXPECT_EQ(fed.used_bytes, first.size());
  EXPECT_EQ(h.reader.request().resource, "/a");
  h.reader.Next();
  fed = h.reader.Feed(both.data() + fed.used_bytes, second.size());
  ASSERT_EQ(fed.event, RequestReader::Event::kRequest);
  EXPECT_EQ(h.reader.request().resource, "/b");
  EXPECT_EQ(h.reader.body(), "");
}

// A reader whose check reserves each body in a budget of 100 bytes, as
// the coordinator's does for plans.
struct BudgetHarness {
  BudgetHarness()
      : reader(kMaxRequestBytes,
               [this](const RestRequest&, size_t length, BodyLease* lease) {
                 return budget.Reserve(length, 100, lease);
               }) {}
  RequestReader::Fed Feed(const std::string& bytes) {
    return reader.Feed(bytes.data(), bytes.size());
  }
  BodyBudget budget;
  RequestReader reader;
};

std::string Post(size_t length, const std::string& body) {
  return "POST /v1/runs HTTP/1.1\r\nContent-Length: " + std::to_string(length) +
         "\r\n\r\n" + body;
}

TEST(RequestReader, HoldsTheBodysReservationUntilTheRequestIsDone) {
  BudgetHarness h;
  ASSERT_EQ(h.Feed(Post(60, std::string(10, 'x'))).event, RequestReader::Event::kAgain);
  EXPECT_EQ(h.budget.reserved_bytes(), 60u);  // reserved before the body came
  ASSERT_EQ(h.Feed(std::string(50, 'x')).event, RequestReader::Event::kRequest);
  BodyLease lease = h.reader.TakeLease();  // the dispatcher takes it along
  EXPECT_EQ(lease.bytes(), 60u);
  h.reader.Next();
  EXPECT_EQ(h.budget.reserved_bytes(), 60u);
  lease.Release();  // answered
  EXPECT_EQ(h.budget.reserved_bytes(), 0u);
  // Next() gives back a reservation nobody took.
  ASSERT_EQ(h.Feed(Post(5, "hello")).event, RequestReader::Event::kRequest);
  EXPECT_EQ(h.budget.reserved_bytes(), 5u);
  h.reader.Next();
  EXPECT_EQ(h.budget.reserved_bytes(), 0u);
}

TEST(RequestReader, AClientGoneMidBodyGivesItsReservationBack) {
  BodyBudget budget;
  {
    RequestReader reader(kMaxRequestBytes,
                         [&budget](const RestRequest&, size_t length, BodyLease* lease) {
                           return budget.Reserve(length, 100, lease);
                         });
    std::string half = Post(80, std::string(40, 'x'));
    ASSERT_EQ(reader.Feed(half.data(), half.size()).event, RequestReader::Event::kAgain);
    EXPECT_EQ(budget.reserved_bytes(), 80u);
  }  // the connection closed: its reader is destroyed with it
  EXPECT_EQ(budget.reserved_bytes(), 0u);
}

TEST(RequestReader, OverTheBudgetIsRefusedBeforeTheBodyAndReservesNothing) {
  BudgetHarness first, second;
  ASSERT_EQ(first.Feed(Post(60, "")).event, RequestReader::Event::kAgain);
  // Both readers share one budget in the coordinator; here the second one's
  // own budget is made full the same way.
  BodyLease held;
  ASSERT_TRUE(second.budget.Reserve(60, 100, &held).ok());
  RequestReader::Fed fed = second.Feed(Post(60, std::string(10, 'x')));
  ASSERT_EQ(fed.event, RequestReader::Event::kRefused);
  EXPECT_EQ(second.reader.refusal().code(), StatusCode::kUnavailable);
  EXPECT_EQ(second.budget.reserved_bytes(), 60u);  // only `held`
  EXPECT_TRUE(second.reader.body().empty());
}

TEST(RequestReader, ARefusalAfterTheCheckGivesTheReservationBack) {
  // The check passes and reserves, then the reader's own bound refuses.
  BodyBudget budget;
  RequestReader reader(64,
                       [&budget](const RestRequest&, size_t length, BodyLease* lease) {
                         return budget.Reserve(length, 100, lease);
                       });
  std::string request = Post(90, "");
  ASSERT_EQ(reader.Feed(request.data(), request.size()).event,
            RequestReader::Event::kRefused);
  EXPECT_EQ(reader.refusal().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(budget.reserved_bytes(), 0u);
}

// Each refused before the check, with what the message says.
TEST(RequestReader, RefusesAmbiguousFraming) {
  struct Case {
    const char* request;
    StatusCode code;
    const char* says;
  };
  const std::string long_path =
      "GET /" + std::string(kMaxRestPathBytes, 'a') + " HTTP/1.1\r\n\r\n";
  // std::regex in Pistache's router overflowed the stack on ~30,000 slashes.
  const std::string slashes = "GET /" + std::string(40000, '/') + " HTTP/1.1\r\n\r\n";
  const Case cases[] = {
      {"POST /v1/runs HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
       StatusCode::kInvalidArgument, "more than one Content-Length"},
      {"POST /v1/runs HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello",
       StatusCode::kInvalidArgument, "more than one Content-Length"},
      {"POST /v1/runs HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello",
       StatusCode::kInvalidArgument, "header name"},
      {"POST /v1/runs HTTP/1.1\r\nX\r\nContent-Length: 5\r\n\r\nhello",
       StatusCode::kInvalidArgument, "header name"},
      {"POST /v1/runs HTTP/1.1\r\n Content-Length: 5\r\n\r\nhello",
       StatusCode::kInvalidArgument, "header name"},
      {"POST /v1/runs HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
       StatusCode::kInvalidArgument, "Content-Length must be a number"},
      {"POST /v1/runs HTTP/1.1\r\nContent-Length: 5x\r\n\r\n",
       StatusCode::kInvalidArgument, "Content-Length must be a number"},
      {"POST /v1/runs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFF\r\n",
       StatusCode::kInvalidArgument, "Transfer-Encoding is not accepted"},
      {"GET * HTTP/1.1\r\n\r\n", StatusCode::kInvalidArgument, "starting with '/'"},
      {"GET http://x/healthz HTTP/1.1\r\n\r\n", StatusCode::kInvalidArgument,
       "starting with '/'"},
      {long_path.c_str(), StatusCode::kInvalidArgument, "path is longer than 2048"},
      {slashes.c_str(), StatusCode::kInvalidArgument, "path is longer than 2048"},
      {"BREW /pot HTTP/1.1\r\n\r\n", StatusCode::kInvalidArgument, "malformed HTTP"},
  };
  for (const Case& c : cases) {
    Harness h;
    RequestReader::Fed fed = h.Feed(c.request);
    EXPECT_EQ(fed.event, RequestReader::Event::kRefused) << c.request;
    EXPECT_EQ(h.reader.refusal().code(), c.code) << c.request;
    EXPECT_NE(h.reader.refusal().message().find(c.says), std::string::npos)
        << h.reader.refusal().message();
    EXPECT_TRUE(h.checks.empty()) << c.request;
  }
}

TEST(RequestReader, RefusesHeadersPastTheLimitWhileTheyArrive) {
  Harness h;
  std::string head = "GET /v1/runs HTTP/1.1\r\nX-Pad: " + std::string(70 << 10, 'p');
  RequestReader::Fed fed = h.Feed(head, 1000);
  EXPECT_EQ(fed.event, RequestReader::Event::kRefused);
  EXPECT_EQ(h.reader.refusal().code(), StatusCode::kResourceExhausted);
  EXPECT_LE(fed.used_bytes, kMaxRestHeaderBytes + 1000);
}

TEST(RequestReader, ConnectionCloseAndHttp10CloseAfterTheAnswer) {
  struct Case {
    const char* request;
    bool close;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: close\r\n\r\n", true},
  };
  for (const Case& c : cases) {
    Harness h;
    ASSERT_EQ(h.Feed(c.request).event, RequestReader::Event::kRequest) << c.request;
    EXPECT_EQ(h.reader.WantsClose(), c.close) << c.request;
    h.reader.Next();
    ASSERT_EQ(h.Feed("GET / HTTP/1.1\r\n\r\n").event, RequestReader::Event::kRequest);
    EXPECT_FALSE(h.reader.WantsClose()) << "after " << c.request;
  }
}

}  // namespace
}  // namespace loadd
