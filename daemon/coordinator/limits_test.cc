#include "daemon/coordinator/limits.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace loadd {
namespace {

TEST(HostAllowListTest, MatchesNamesPatternsAddressesAndRanges) {
  Result<HostAllowList> list =
      HostAllowList::Parse({"api.test", "*.example.com", "10.0.0.0/8", "192.168.1.7",
                            "fd00::/8", "::1", "LocalHost."});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  struct Case {
    const char* host;
    bool allowed;
  };
  const Case cases[] = {
      {"api.test", true},
      {"API.Test", true},     // names compare case-insensitively
      {"api.test.", true},    // a trailing dot is the same name
      {"x.api.test", false},  // an exact name covers no subdomain
      {"api.test.evil", false},
      {"www.example.com", true},
      {"a.b.example.com", true},
      {"example.com", false},  // *.example.com is subdomains only
      {"evilexample.com", false},
      {"example.com.evil", false},
      {"10.0.0.1", true},
      {"10.255.255.255", true},
      {"11.0.0.1", false},
      {"9.255.255.255", false},
      {"192.168.1.7", true},
      {"192.168.1.8", false},
      {"::ffff:10.1.2.3", true},  // IPv4-mapped IPv6 is IPv4
      {"[::ffff:10.1.2.3]", true},
      {"fd12:3456::1", true},
      {"fe80::1", false},
      {"::1", true},
      {"::2", false},
      {"localhost", true},
      {"127.0.0.1", false},   // not listed here
      {"0x0a000001", false},  // numeric forms other than dotted quad are names
      {"10.1", false},
      {"", false},
  };
  for (const Case& c : cases) EXPECT_EQ(list->Allows(c.host), c.allowed) << c.host;
}

TEST(HostAllowListTest, DefaultIsLoopbackOnly) {
  HostAllowList list;
  EXPECT_EQ(list.entries(), HostAllowList::DefaultEntries());
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST"}) {
    EXPECT_TRUE(list.Allows(host)) << host;
  }
  for (const char* host : {"128.0.0.1", "10.0.0.1", "::2", "example.invalid", "192.0.2.1",
                           "localhost.example.com", "0.0.0.0"}) {
    EXPECT_FALSE(list.Allows(host)) << host;
  }
}

TEST(HostAllowListTest, ZeroPrefixAllowsAllOfAFamily) {
  Result<HostAllowList> list = HostAllowList::Parse({"0.0.0.0/0"});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->Allows("203.0.113.9"));
  EXPECT_FALSE(list->Allows("2001:db8::1"));
  EXPECT_FALSE(list->Allows("example.com"));
}

TEST(HostAllowListTest, BadEntriesNameTheFlagAndTheEntry) {
  struct Case {
    const char* entry;
    const char* expected;
  };
  const Case cases[] = {
      {"", "is empty"},
      {"10.0.0.0/33", "prefix length outside 0..32"},
      {"fd00::/129", "prefix length outside 0..128"},
      {"10.0.0.0/x", "prefix length"},
      {"10.0.0.1/8", "address bits set beyond its prefix length"},
      {"10.0.0/8", "is not an IP range"},
      {"host/8", "is not an IP range"},
      {"a.*.com", "may only start with *."},
      {"*", "may only start with *."},
      {"bad host", "is not a host name"},
      {"a..b", "empty label"},
  };
  for (const Case& c : cases) {
    Result<HostAllowList> list =
        HostAllowList::Parse({"localhost", c.entry}, "--allow-host");
    ASSERT_FALSE(list.ok()) << c.entry;
    EXPECT_EQ(list.status().path(), "--allow-host") << c.entry;
    EXPECT_NE(list.status().message().find(std::string("\"") + c.entry + "\""),
              std::string::npos)
        << list.status().message();
    EXPECT_NE(list.status().message().find(c.expected), std::string::npos)
        << c.entry << ": " << list.status().message();
  }
}

Plan MustParse(const std::string& json) {
  Result<Plan> plan = ParsePlan(json);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString() << "\n" << json;
  return plan.ok() ? *plan : Plan();
}

TEST(CheckRunLimitsTest, RefusalsNameThePathTheLimitAndTheFlag) {
  RunLimits limits;
  limits.max_users = 1000;
  limits.max_rate = 500;
  limits.max_duration_ns = 3600 * kNsPerSec;
  limits.max_data_bytes = 100;
  limits.max_plan_bytes = 64 << 10;
  struct Case {
    const char* name;
    std::string plan;
    const char* path;     // empty: allowed
    const char* message;  // a part of the message
  };
  const Case cases[] = {
      {"within every limit",
       R"({"target": "http://127.0.0.1:8080/", "users": 1000, "duration": "1h"})", "",
       ""},
      {"target host", R"({"target": "http://example.invalid/", "users": 1})", "$.target",
       "host \"example.invalid\" is not in this coordinator's allow list (127.0.0.0/8, "
       "::1, "
       "localhost); its operator can add it with --allow-host example.invalid "
       "(allow-host in "
       "the coordinator's config file"},
      {"request url", R"({"users": 1, "requests": [{"url": "http://127.0.0.1/"},
                                                    {"url": "http://192.0.2.1:81/x"}]})",
       "$.requests[1].url", "host \"192.0.2.1\" is not in"},
      {"step url",
       R"({"users": 1, "scenarios": [{"steps": [{"url": "http://localhost/"}]},
                       {"steps": [{"url": "http://[::1]/"}, {"url": "https://[2001:db8::1]/"}]}]})",
       "$.scenarios[1].steps[1].url", "host \"2001:db8::1\""},
      {"users", R"({"target": "http://127.0.0.1/", "users": 1001})", "$.users",
       "1001 users is above this coordinator's limit of 1000 users per run; its operator "
       "can "
       "raise it with --max-users (max-users in the coordinator's config file"},
      {"stage users",
       R"({"target": "http://127.0.0.1/", "stages": [{"duration": "1s", "users": 10},
                                                                   {"duration": "1s", "users": 2000}]})",
       "$.stages[1].users", "2000 users is above this coordinator's limit of 1000 users"},
      {"arrival rate", R"({"target": "http://127.0.0.1/", "arrival_rate": 500.5})",
       "$.arrival_rate",
       "500.5 arrivals/s is above this coordinator's limit of 500 arrivals/s "
       "per run; its operator can raise it with --max-rate"},
      {"stage rate",
       R"({"target": "http://127.0.0.1/", "stages": [{"duration": "1s", "rate": 600}]})",
       "$.stages[0].rate", "600 arrivals/s"},
      {"start rate", R"({"target": "http://127.0.0.1/", "start_rate": 501,
                         "stages": [{"duration": "1s", "rate": 1}]})",
       "$.start_rate", "--max-rate"},
      {"in flight",
       R"({"target": "http://127.0.0.1/", "arrival_rate": 5, "max_in_flight": 1001})",
       "$.max_in_flight",
       "1001 iterations in flight is above this coordinator's limit of 1000 "
       "users per run; its operator can raise it with --max-users"},
      {"duration", R"({"target": "http://127.0.0.1/", "users": 1, "duration": "2h"})",
       "$.duration", "--max-duration (max-duration in the coordinator's config file"},
      {"stages duration",
       R"({"target": "http://127.0.0.1/", "stages": [{"duration": "1h", "users": 1},
                                                                       {"duration": "1s", "users": 1}]})",
       "$.stages", "--max-duration"},
      {"data file",
       R"({"target": "http://127.0.0.1/", "users": 1,
                        "data": {"name": "d.csv", "content": "id\n)" +
           std::string(100, '1') + R"(\n"},
                        "scenarios": [{"steps": [{"path": "/{{data.id}}"}]}]})",
       "$.data.content",
       "a data file of 104 bytes is above this coordinator's limit of 100 "
       "bytes per run; its operator can raise it with --max-data-bytes"},
  };
  for (const Case& c : cases) {
    Plan plan = MustParse(c.plan);
    Status status = CheckRunLimits(plan, c.plan.size(), limits);
    if (std::string(c.path).empty()) {
      EXPECT_TRUE(status.ok()) << c.name << ": " << status.ToString();
      continue;
    }
    ASSERT_FALSE(status.ok()) << c.name;
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << c.name;
    EXPECT_EQ(status.path(), c.path) << c.name << ": " << status.ToString();
    EXPECT_NE(status.message().find(c.message), std::string::npos)
        << c.name << ": " << status.message();
  }
}

TEST(CheckRunLimitsTest, PlanBytesExcludeTheDataFile) {
  RunLimits limits;
  limits.max_plan_bytes = 200;
  limits.max_data_bytes = 1 << 20;
  std::string csv = "id\\n" + std::string(10000, '7') + "\\n";
  std::string json =
      R"({"target": "http://127.0.0.1/", "users": 1, "data": {"content": ")" + csv +
      R"("}, "scenarios": [{"steps": [{"path": "/{{data.id}}"}]}]})";
  Plan plan = MustParse(json);
  EXPECT_TRUE(CheckRunLimits(plan, json.size(), limits).ok())
      << "data bytes do not count";
  Status status = CheckRunLimits(plan, json.size() + 200, limits);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.path(), "$");
  EXPECT_NE(status.message().find(
                "(apart from its data file) is above this coordinator's limit "
                "of 200 bytes per run; its operator can raise it with "
                "--max-plan-bytes"),
            std::string::npos)
      << status.message();
}

TEST(RunLimitsTest, BodyLimitAdmitsAFullDataFileAndAFullPlan) {
  RunLimits limits;
  EXPECT_EQ(limits.MaxBodyBytes(), (size_t{8} << 20) + (size_t{1} << 20));
}

TEST(LiveLimitsTest, SetSwapsWholeLimitsWhileOldSnapshotsStayValid) {
  LiveLimits live{RunLimits{}};
  std::shared_ptr<const RunLimits> before = live.Get();
  RunLimits next;
  next.max_users = 5;
  next.hosts = *HostAllowList::Parse({"10.0.0.0/8"});
  live.Set(next);
  EXPECT_EQ(before->max_users, 100'000);
  EXPECT_TRUE(before->hosts.Allows("127.0.0.1"));
  EXPECT_EQ(live.Get()->max_users, 5);
  EXPECT_FALSE(live.Get()->hosts.Allows("127.0.0.1"));
}

TEST(FormatBytesTest, PicksAReadableUnit) {
  EXPECT_EQ(FormatBytes(8 << 20), "8 MiB");
  EXPECT_EQ(FormatBytes(1536 << 10), "1.5 MiB");
  EXPECT_EQ(FormatBytes(64 << 10), "64 KiB");
  EXPECT_EQ(FormatBytes(100), "100 bytes");
  EXPECT_EQ(FormatBytes(1025), "1025 bytes");
}

}  // namespace
}  // namespace loadd
