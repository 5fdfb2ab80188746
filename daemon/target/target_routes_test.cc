#include "daemon/target/target_routes.h"

#include <gtest/gtest.h>

#include "daemon/target/target_response.h"

namespace loadd {
namespace {

struct RouteCase {
  const char* url;
  RouteKind kind;
  int status;
  int64_t delay_ns;
  int64_t fill_bytes;  // -1: text body
  const char* text;    // checked when fill_bytes is -1; nullptr: not checked
};

constexpr int64_t kMs = kNsPerMs;
constexpr int64_t kMiB = 1024 * 1024;

const RouteCase kRouteCases[] = {
    {"/", RouteKind::kPlain, 200, 0, -1, "ok\n"},
    {"/any/thing/at/all", RouteKind::kPlain, 200, 0, -1, "ok\n"},
    {"*", RouteKind::kPlain, 200, 0, -1, "ok\n"},
    {"/?unknown=1&x", RouteKind::kPlain, 200, 0, -1, "ok\n"},
    {"/#frag?status=500", RouteKind::kPlain, 200, 0, -1, "ok\n"},
    {"/delay/25ms", RouteKind::kPlain, 200, 25 * kMs, -1, "ok\n"},
    {"/delay/1s", RouteKind::kPlain, 200, 1000 * kMs, -1, "ok\n"},
    {"/delay/1.5ms", RouteKind::kPlain, 200, 1500 * 1000, -1, "ok\n"},
    {"/delay/0", RouteKind::kPlain, 200, 0, -1, "ok\n"},
    {"/delay/2m", RouteKind::kPlain, 200, 60 * kNsPerSec, -1, "ok\n"},  // clamped
    {"/delay/abc", RouteKind::kPlain, 400, 0, -1, nullptr},
    {"/delay/", RouteKind::kPlain, 400, 0, -1, nullptr},
    {"/x?delay=5ms", RouteKind::kPlain, 200, 5 * kMs, -1, "ok\n"},
    {"/?status=503", RouteKind::kPlain, 503, 0, -1, "status 503\n"},
    {"/some/path?a=b&status=404", RouteKind::kPlain, 404, 0, -1, "status 404\n"},
    {"/?status=200", RouteKind::kPlain, 200, 0, -1, "ok\n"},
    {"/?status=599", RouteKind::kPlain, 599, 0, -1, "status 599\n"},
    {"/?status=199", RouteKind::kPlain, 400, 0, -1, nullptr},
    {"/?status=600", RouteKind::kPlain, 400, 0, -1, nullptr},
    {"/?status=50x", RouteKind::kPlain, 400, 0, -1, nullptr},
    {"/?status=", RouteKind::kPlain, 400, 0, -1, nullptr},
    {"/bytes/100", RouteKind::kPlain, 200, 0, 100, nullptr},
    {"/bytes/0", RouteKind::kPlain, 200, 0, 0, nullptr},
    {"/bytes/64KiB", RouteKind::kPlain, 200, 0, 64 * 1024, nullptr},
    {"/bytes/1G", RouteKind::kPlain, 200, 0, 16 * kMiB, nullptr},  // clamped
    {"/bytes/lots", RouteKind::kPlain, 400, 0, -1, nullptr},
    {"/?size=10", RouteKind::kPlain, 200, 0, 10, nullptr},
    {"/bytes/10?size=20", RouteKind::kPlain, 200, 0, 20, nullptr},  // query wins
    {"/delay/10ms?status=503&size=7", RouteKind::kPlain, 503, 10 * kMs, 7, nullptr},
    {"http://example.com/delay/3ms?status=201", RouteKind::kPlain, 201, 3 * kMs, -1,
     "status 201\n"},
    {"http://example.com", RouteKind::kPlain, 200, 0, -1, "ok\n"},
    {"/__stats", RouteKind::kStats, 200, 0, -1, nullptr},
    {"/__stats?x=1", RouteKind::kStats, 200, 0, -1, nullptr},
    {"/__reset", RouteKind::kReset, 200, 0, -1, "reset\n"},
    {"/__statsx", RouteKind::kPlain, 200, 0, -1, "ok\n"},
};

class RouteTableTest : public testing::TestWithParam<RouteCase> {};

TEST_P(RouteTableTest, Routes) {
  const RouteCase& c = GetParam();
  Route route = RouteRequest(c.url);
  EXPECT_EQ(route.kind, c.kind);
  EXPECT_EQ(route.status, c.status);
  EXPECT_EQ(route.delay_ns, c.delay_ns);
  EXPECT_EQ(route.fill_bytes, c.fill_bytes);
  if (c.fill_bytes < 0 && c.text != nullptr) {
    EXPECT_EQ(route.text, c.text);
  }
  if (c.status == 400) {
    EXPECT_EQ(route.text.rfind("bad request: ", 0), 0u) << route.text;
  }
}

INSTANTIATE_TEST_SUITE_P(All, RouteTableTest, testing::ValuesIn(kRouteCases));

TEST(RouteTest, BadValueSaysWhich) {
  EXPECT_NE(RouteRequest("/delay/abc").text.find("delay"), std::string::npos);
  EXPECT_NE(RouteRequest("/?status=7").text.find("status"), std::string::npos);
}

struct HeadCase {
  int status;
  uint64_t content_bytes;
  ConnectionHeader connection;
  const char* want;
};

const HeadCase kHeadCases[] = {
    {200, 3, ConnectionHeader::kNone,
     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\n"},
    {503, 11, ConnectionHeader::kClose,
     "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 11\r\nContent-Type: "
     "text/plain\r\nConnection: close\r\n\r\n"},
    {200, 0, ConnectionHeader::kKeepAlive,
     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Type: text/plain\r\nConnection: "
     "keep-alive\r\n\r\n"},
    {204, 11, ConnectionHeader::kNone, "HTTP/1.1 204 No Content\r\n\r\n"},
    {304, 11, ConnectionHeader::kClose,
     "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n"},
    {299, 1, ConnectionHeader::kNone,
     "HTTP/1.1 299 Unknown\r\nContent-Length: 1\r\nContent-Type: text/plain\r\n\r\n"},
};

TEST(ResponseHeadTest, Formats) {
  for (const HeadCase& c : kHeadCases) {
    char buf[256];
    size_t n = FormatResponseHead(c.status, c.content_bytes, "text/plain", c.connection,
                                  buf, sizeof buf);
    EXPECT_EQ(std::string(buf, n), c.want) << c.status;
  }
}

TEST(ResponseHeadTest, TooSmallBufferWritesNothing) {
  char buf[20];
  EXPECT_EQ(
      FormatResponseHead(200, 3, "text/plain", ConnectionHeader::kNone, buf, sizeof buf),
      0u);
}

TEST(ResponseHeadTest, FillChunkIsPrintable) {
  const char* fill = FillChunk();
  for (size_t i = 0; i < kFillChunkBytes; ++i) {
    ASSERT_TRUE(fill[i] == '\n' || (fill[i] >= ' ' && fill[i] < 127)) << i;
  }
}

}  // namespace
}  // namespace loadd

namespace loadd {
namespace {

TEST(RouteTest, StallWindowsHoldRequestsUntilTheWindowEnds) {
  Route route = RouteRequest("/x?stall_every=5s&stall_for=500ms");
  EXPECT_EQ(route.stall_every_ns, 5 * kNsPerSec);
  EXPECT_EQ(route.stall_for_ns, 500 * kNsPerMs);
  // Windows start at every multiple of 5 s of the monotonic clock.
  EXPECT_EQ(StallDelayNs(route, 10 * kNsPerSec), 500 * kNsPerMs);
  EXPECT_EQ(StallDelayNs(route, 10 * kNsPerSec + 200 * kNsPerMs), 300 * kNsPerMs);
  EXPECT_EQ(StallDelayNs(route, 10 * kNsPerSec + 500 * kNsPerMs), 0);
  EXPECT_EQ(StallDelayNs(route, 14 * kNsPerSec), 0);
  EXPECT_EQ(StallDelayNs(RouteRequest("/x"), 10 * kNsPerSec), 0);
  EXPECT_EQ(RouteRequest("/x?stall_for=abc").status, 400);
}

}  // namespace
}  // namespace loadd
