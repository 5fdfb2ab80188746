#include "daemon/coordinator/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"

namespace loadd {
namespace {

AuditEntry Entry(std::string token, std::string address, std::string action,
                 std::string run_id, bool ok, int code = 0, std::string reason = "") {
  AuditEntry e;
  e.token = std::move(token);
  e.address = std::move(address);
  e.action = std::move(action);
  e.run_id = std::move(run_id);
  e.ok = ok;
  e.code = code;
  e.reason = std::move(reason);
  return e;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/loadd-audit-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    unlink((dir_ + "/audit.log").c_str());
    unlink((dir_ + "/audit.log.1").c_str());
    rmdir(dir_.c_str());
  }
  std::unique_ptr<AuditLog> Open(size_t max_bytes = AuditLog::kDefaultMaxBytes) {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(
        dir_, &clock_, [] { return int64_t{1'796'650'287'123'000'000}; }, max_bytes);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }
  std::vector<std::string> Lines(const std::string& name = "audit.log") {
    std::ifstream in(dir_ + "/" + name);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  static AuditEntry Refused(const std::string& token) {
    return Entry(token, "10.0.0.7", "start", "", false, 403, "no");
  }

  std::string dir_;
  FakeClock clock_;
};

TEST_F(AuditLogTest, OneJsonLinePerEntryAppendedWithMode600) {
  {
    std::unique_ptr<AuditLog> log = Open();
    log->Record(Entry("ci", "127.0.0.1", "start", "r-1", true, 0, ""));
    log->Record(Entry("-", "::1", "stop", "r\x01\"x", false, 401, "wrong bearer token"));
  }
  std::unique_ptr<AuditLog> again = Open();  // appends, never truncates
  again->Record(Entry("ci", "127.0.0.1", "cancel", "r-2", true, 0, ""));
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            R"({"time":"2026-12-07T13:31:27.123Z","token":"ci","address":"127.0.0.1",)"
            R"("action":"start","run":"r-1","outcome":"ok"})");
  EXPECT_EQ(lines[1], R"({"time":"2026-12-07T13:31:27.123Z","token":"-","address":"::1",)"
                      R"("action":"stop","run":"r?\"x","outcome":"refused","code":401,)"
                      R"("reason":"wrong bearer token"})");
  EXPECT_NE(lines[2].find(R"("action":"cancel","run":"r-2")"), std::string::npos);
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/audit.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuditLogTest, RefusalsAreRateLimitedAndTheGapIsCounted) {
  std::unique_ptr<AuditLog> log = Open();
  for (int i = 0; i < AuditLog::kRefusalBurst + 50; ++i) log->Record(Refused("-"));
  // Successful actions are never left out.
  log->Record(Entry("ci", "127.0.0.1", "start", "r-1", true, 0, ""));
  EXPECT_EQ(Lines().size(), static_cast<size_t>(AuditLog::kRefusalBurst) + 1);
  clock_.AdvanceNs(kNsPerSec / AuditLog::kRefusalsPerSec);  // one more allowed
  log->Record(Refused("x"));
  log->Record(Refused("x"));  // over again
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(AuditLog::kRefusalBurst) + 3);
  EXPECT_NE(lines[lines.size() - 2].find(R"("action":"suppressed")"), std::string::npos);
  EXPECT_NE(lines[lines.size() - 2].find(R"("count":50)"), std::string::npos)
      << lines[lines.size() - 2];
  EXPECT_NE(lines.back().find(R"("token":"x")"), std::string::npos);
}

TEST_F(AuditLogTest, RotatesAtItsSizeCap) {
  std::unique_ptr<AuditLog> log = Open(1000);
  for (int i = 0; i < 30; ++i) {
    log->Record(Entry("ci", "127.0.0.1", "start", "r-" + std::to_string(i), true));
  }
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/audit.log").c_str(), &st), 0);
  EXPECT_LE(st.st_size, 1000);
  ASSERT_EQ(stat((dir_ + "/audit.log.1").c_str(), &st), 0);
  EXPECT_LE(st.st_size, 1000);
  std::vector<std::string> lines = Lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find(R"("run":"r-29")"), std::string::npos);
  EXPECT_EQ(Lines("audit.log.1").size() + lines.size() <= 30, true);
}

}  // namespace
}  // namespace loadd
