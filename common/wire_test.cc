#include "common/wire.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

TEST(WireTest, StatsRoundTrip) {
  StatsMsg stats;
  stats.run_id = "r1";
  stats.seq = 7;
  stats.users = 50;
  stats.cpu_percent = 12.5;
  stats.final = true;
  EndpointStats e;
  e.name = "GET /a";
  e.requests = 3;
  e.failures = 1;
  e.errors[static_cast<int>(ErrorKind::kStatus)] = 1;
  e.bytes_in = 99;
  for (int v : {100, 200, 20000}) e.latency_us.Record(v);
  e.service_us.Record(90);
  stats.dropped = 4;
  stats.checks.push_back(CheckCount{"login: status == 200", 5, 2});
  stats.endpoints.push_back(e);

  Result<Message> decoded = DecodeMessage(EncodeMessage(stats));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const StatsMsg& got = std::get<StatsMsg>(*decoded);
  EXPECT_EQ(got.run_id, "r1");
  EXPECT_EQ(got.seq, 7);
  EXPECT_TRUE(got.final);
  ASSERT_EQ(got.endpoints.size(), 1u);
  EXPECT_EQ(got.endpoints[0].errors[static_cast<int>(ErrorKind::kStatus)], 1);
  EXPECT_EQ(got.endpoints[0].latency_us.TotalCount(), 3);
  EXPECT_EQ(got.endpoints[0].latency_us.Max(), e.latency_us.Max());
  EXPECT_EQ(got.endpoints[0].service_us.TotalCount(), 1);
  EXPECT_EQ(got.dropped, 4);
  ASSERT_EQ(got.checks.size(), 1u);
  EXPECT_EQ(got.checks[0].name, "login: status == 200");
  EXPECT_EQ(got.checks[0].failed, 2);
}

TEST(WireTest, AssignCarriesThePlan) {
  AssignMsg assign;
  assign.run_id = "r2";
  assign.plan = *ParsePlan(R"({"target": "http://127.0.0.1:1/x", "users": 5})");
  assign.share = {ShareChange{true, 3, 2, 1, 0, -1}};
  assign.run_time_ms = -250;
  Result<Message> decoded = DecodeMessage(EncodeMessage(assign));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const AssignMsg& got = std::get<AssignMsg>(*decoded);
  EXPECT_EQ(got.plan.users, 5);
  EXPECT_EQ(got.plan.requests[0].url.target, "/x");
  ASSERT_EQ(got.share.size(), 1u);
  EXPECT_EQ(got.share[0].modulus, 3);
  EXPECT_EQ(got.share[0].residue, 2);
  EXPECT_EQ(got.run_time_ms, -250);
}

TEST(WireTest, AssignCarriesTheAllowList) {
  AssignMsg assign;
  assign.run_id = "r3";
  assign.plan = *ParsePlan(R"({"target": "http://api.test:1/x", "users": 1})");
  assign.share = {ShareChange{true, 1, 0, 1, 0, -1}};
  assign.allow_hosts = {"api.test", "10.20.0.0/16", "*.cdn.example=any"};
  Result<Message> decoded = DecodeMessage(EncodeMessage(assign));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(std::get<AssignMsg>(*decoded).allow_hosts, assign.allow_hosts);
  // A coordinator that does not send it: empty, the worker's default applies.
  assign.allow_hosts.clear();
  std::string bytes = EncodeMessage(assign);
  EXPECT_EQ(bytes.find("allow_hosts"), std::string::npos);
  decoded = DecodeMessage(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(std::get<AssignMsg>(*decoded).allow_hosts.empty());
  // A bad entry is refused, naming where.
  assign.allow_hosts = {"localhost", "10.0.0.0/8=any"};
  decoded = DecodeMessage(EncodeMessage(assign));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().path(), "$.allow_hosts");
  for (const char* bad : {R"("allow_hosts": "localhost")", R"("allow_hosts": [1])",
                          R"("allow_hosts": [""])"}) {
    std::string text = EncodeMessage(AssignMsg{"r", assign.plan, assign.share, 1, 0, {}});
    text.insert(text.size() - 1, std::string(", ") + bad);
    EXPECT_FALSE(DecodeMessage(text).ok()) << text;
  }
}

TEST(WireTest, EveryTypeRoundTrips) {
  const Message kMessages[] = {
      HelloMsg{"h", 1, 1, 2, 3, "v", ""},
      WelcomeMsg{"h/1", 1000},
      HeartbeatMsg{"r", 3, 1.5},
      PingMsg{},
      StopMsg{"r"},
      ReshareMsg{"r", {ShareChange{false, 6, 1, 3, 1, 5000}}, 50},
      GoodbyeMsg{"signal 15"},
      GoodbyeMsg{},
      ProfileMsg{"r", 5000, {{0, 0}, {1'000'000'000, 100}, {5'000'000'000, 100}}}};
  for (const Message& m : kMessages) {
    Result<Message> decoded = DecodeMessage(EncodeMessage(m));
    ASSERT_TRUE(decoded.ok()) << MessageTypeName(m) << ": "
                              << decoded.status().ToString();
    EXPECT_EQ(decoded->index(), m.index());
  }
}

TEST(WireTest, ProfileCarriesEveryKnot) {
  ProfileMsg sent{"r9",
                  4300,
                  {{0, 0},
                   {1'000'000'000, 100},
                   {4'300'000'000, 100},
                   {6'300'000'000, 300},
                   {10'000'000'000, 300}}};
  Result<Message> decoded = DecodeMessage(EncodeMessage(sent));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const ProfileMsg& got = std::get<ProfileMsg>(*decoded);
  EXPECT_EQ(got.run_id, "r9");
  EXPECT_EQ(got.at_ms, 4300);
  ASSERT_EQ(got.knots.size(), sent.knots.size());
  for (size_t i = 0; i < got.knots.size(); ++i) {
    EXPECT_EQ(got.knots[i].t_ns, sent.knots[i].t_ns);
    EXPECT_EQ(got.knots[i].value, sent.knots[i].value);
  }
  // A bad knot is named by its index.
  Result<Message> bad = DecodeMessage(
      R"({"type": "profile", "run_id": "r", "at_ms": 1, "knots": [[0, 1], [9, "x"]]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().path(), "$.knots[1]");
}

TEST(WireTest, GarbageIsRejectedNotCrashed) {
  const char* kBad[] = {
      "",
      "not json",
      R"({"type": 3})",
      R"({"type": "launch_missiles"})",
      R"({"type": "hello"})",
      R"({"type": "hello", "host": "h", "instance": -1})",
      R"({"type": "assign", "run_id": "r", "plan": {"users": -1}, "stripe_count": 1,
          "stripe_index": 0})",
      R"({"type": "assign", "run_id": "r", "plan": {"users": 1, "target": "http://h"},
          "share": [{"modulus": 2, "residue": 2}]})",
      R"({"type": "assign", "run_id": "r", "plan": {"users": 1, "target": "http://h"},
          "share": []})",
      R"({"type": "reshare", "run_id": "r", "changes": [{"modulus": 0, "residue": 0}]})",
      R"({"type": "stats", "run_id": "r", "endpoints": [{"name": "a", "latency_us": "!!"}]})",
      R"({"type": "stats", "run_id": "r", "endpoints": [{"name": "a", "latency_us": "",
          "errors": [1,2,3,4,5,6,7,8]}]})",
      R"({"type": "stop", "run_id": "r", "extra": 1})",
      R"({"type": "goodbye", "reason": 15})",
      R"({"type": "goodbye", "run_id": "r"})",
      R"({"type": "welcome", "worker_id": "h/1", "heartbeat_timeout_ms": -1})",
      R"({"type": "profile", "run_id": "r", "at_ms": 1, "knots": [[0, 1]]})",
      R"({"type": "profile", "run_id": "r", "at_ms": 1, "knots": [[5, 1], [9, 1]]})",
      R"({"type": "profile", "run_id": "r", "at_ms": 1, "knots": [[0, 1], [9, -1]]})",
      R"({"type": "profile", "run_id": "r", "at_ms": 1, "knots": [[0, 1], [9, 1e99]]})",
      R"({"type": "profile", "run_id": "r", "at_ms": 1, "knots": [[9, 1], [0, 1]]})",
      R"({"type": "profile", "run_id": "r", "at_ms": -1, "knots": [[0, 1], [9, 1]]})",
      R"({"type": "profile", "run_id": "r", "at_ms": 1, "knots": [[0, 1, 2], [9, 1]]})",
  };
  for (const char* bad : kBad) {
    EXPECT_FALSE(DecodeMessage(bad).ok()) << bad;
  }
  // Truncations of a valid message never crash and never decode.
  std::string good = EncodeMessage(HelloMsg{"host", 0, 0, 1, 1, "v", ""});
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeMessage(good.substr(0, n)).ok()) << n;
  }
}

TEST(WireTest, HelloCarriesLabels) {
  HelloMsg hello{"h", 1, 1, 2, 3, "v", ""};
  hello.labels = {{"pool", "eu"}, {"git.branch", "feature/x"}};
  Result<Message> decoded = DecodeMessage(EncodeMessage(hello));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(std::get<HelloMsg>(*decoded).labels, hello.labels);
}

// An older coordinator refuses unknown fields: a worker without labels sends
// none, so it still registers there; an older worker's hello (no labels)
// registers with a newer coordinator.
TEST(WireTest, HelloWithoutLabelsIsTheOldHello) {
  std::string bytes = EncodeMessage(HelloMsg{"h", 1, 1, 2, 3, "v", ""});
  EXPECT_EQ(bytes.find("labels"), std::string::npos) << bytes;
  Result<Message> old = DecodeMessage(
      R"({"type":"hello","v":1,"host":"h","instance":1,"cpu":1,"cores":2,"pid":3,)"
      R"("version":"0.9","run_id":""})");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_TRUE(std::get<HelloMsg>(*old).labels.empty());
}

TEST(WireTest, BadHelloLabelsNameThePath) {
  const std::string kHello = R"({"type":"hello","host":"h","instance":1,"labels":)";
  std::string many = "{";
  for (int i = 0; i < 17; ++i)
    many += (i ? "," : "") + ("\"k" + std::to_string(i) + "\":\"v\"");
  many += "}";
  struct Case {
    std::string labels;
    std::string path;
  };
  const Case cases[] = {
      {"[]", "$.labels"},
      {many, "$.labels"},
      {R"({"pool": 1})", "$.labels.pool"},
      {R"({"pool": ""})", "$.labels.pool"},
      {R"({"pool": "e u"})", "$.labels.pool"},
      {R"({"-pool": "eu"})", "$.labels.-pool"},
      {R"({"pool": "a", "pool": "b"})", "$.labels.pool"},
  };
  for (const Case& c : cases) {
    Result<Message> got = DecodeMessage(kHello + c.labels + "}");
    ASSERT_FALSE(got.ok()) << c.labels;
    EXPECT_EQ(got.status().path(), c.path) << got.status().ToString();
  }
}

// The coordinator reads at most 4096 bytes before a hello (kMaxHelloBytes).
TEST(WireTest, HelloWithTheMostLabelsFitsTheHelloLimit) {
  HelloMsg hello{
      std::string(253, 'h'), 65535, 65535, 65536, int64_t{1} << 49, std::string(32, 'v'),
      std::string(64, 'r')};
  for (size_t i = 0; i < kMaxLabels; ++i) {
    std::string key = std::to_string(i) + std::string(kMaxLabelKeyBytes, 'k');
    hello.labels[key.substr(0, kMaxLabelKeyBytes)] =
        std::string(kMaxLabelValueBytes, 'v');
  }
  std::string bytes = EncodeMessage(hello);
  EXPECT_LE(bytes.size(), 4096u);
  EXPECT_TRUE(DecodeMessage(bytes).ok());
}

// A run's labels stay with the coordinator: an older worker refuses a plan
// with a field it does not know.
TEST(WireTest, AssignLeavesTheRunLabelsOut) {
  AssignMsg assign;
  assign.run_id = "r2";
  assign.plan = *ParsePlan(
      R"({"target": "http://127.0.0.1:1/x", "users": 5, "labels": {"branch": "main"}})");
  ASSERT_EQ(assign.plan.labels.size(), 1u);
  assign.share = {ShareChange{true, 1, 0, 1, 0, -1}};
  std::string bytes = EncodeMessage(assign);
  EXPECT_EQ(bytes.find("labels"), std::string::npos) << bytes;
  ASSERT_TRUE(DecodeMessage(bytes).ok());
}

TEST(WireTest, WelcomeCarriesTheHeartbeatTimeout) {
  Result<Message> decoded = DecodeMessage(EncodeMessage(WelcomeMsg{"h/1", 250, 1000}));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(std::get<WelcomeMsg>(*decoded).heartbeat_ms, 250);
  EXPECT_EQ(std::get<WelcomeMsg>(*decoded).heartbeat_timeout_ms, 1000);
  // A coordinator that does not send it: 0, the worker keeps its own grace.
  decoded = DecodeMessage(R"({"type": "welcome", "v": 1, "worker_id": "h/1"})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(std::get<WelcomeMsg>(*decoded).heartbeat_timeout_ms, 0);
}

TEST(WireTest, GoodbyeReasonIsBounded) {
  Result<Message> decoded = DecodeMessage(EncodeMessage(GoodbyeMsg{"signal 15"}));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(std::get<GoodbyeMsg>(*decoded).reason, "signal 15");
  Result<Message> long_reason =
      DecodeMessage(EncodeMessage(GoodbyeMsg{std::string(257, 'x')}));
  ASSERT_FALSE(long_reason.ok());
  EXPECT_NE(long_reason.status().ToString().find("$.reason"), std::string::npos)
      << long_reason.status().ToString();
}

}  // namespace
}  // namespace loadd
