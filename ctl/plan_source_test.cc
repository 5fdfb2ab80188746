#include "ctl/plan_source.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "ctl/exit_code.h"
#include "ctl/test_fakes.h"

namespace loadd {
namespace {

constexpr char kPlanFile[] = R"({"name": "file", "users": 50, "duration": "1m",
  "requests": [{"url": "http://127.0.0.1:9000/a"}]})";
constexpr char kDefaultFile[] = R"({"name": "default", "users": 7,
  "target": "http://127.0.0.1:9001", "requests": [{"path": "/b"}]})";

using Flag = std::string PlanFlags::*;

// PlanFlags with the given fields set (designated initializers would trip
// -Wmissing-field-initializers inside the case tables).
PlanFlags Flags(std::initializer_list<std::pair<Flag, const char*>> set) {
  PlanFlags flags;
  for (const auto& [field, value] : set) flags.*field = value;
  return flags;
}

constexpr Flag kPlan = &PlanFlags::plan_file;
constexpr Flag kUsers = &PlanFlags::users;
constexpr Flag kRate = &PlanFlags::spawn_rate;
constexpr Flag kDuration = &PlanFlags::duration;
constexpr Flag kName = &PlanFlags::name;
constexpr Flag kTarget = &PlanFlags::target;

struct SourceCase {
  const char* label;
  bool default_file_exists;
  PlanFlags flags;
  // Expected on success:
  const char* source;
  const char* name;
  int64_t users;
  int64_t duration_ns;
  const char* first_url;
};

TEST(ResolvePlanTest, PicksTheSourceAndAppliesFlags) {
  const SourceCase kCases[] = {
      {"argument wins over loadplan.json", true, Flags({{kPlan, "p.json"}}), "p.json",
       "file", 50, 60 * kNsPerSec, "http://127.0.0.1:9000/a"},
      {"loadplan.json when no argument", true, Flags({}), "loadplan.json", "default", 7,
       30 * kNsPerSec, "http://127.0.0.1:9001/b"},
      {"quick plan from flags", false,
       Flags({{kUsers, "10"}, {kDuration, "5s"}, {kTarget, "http://127.0.0.1:9002/x"}}),
       "flags", "", 10, 5 * kNsPerSec, "http://127.0.0.1:9002/x"},
      {"flags override the file", false,
       Flags(
           {{kPlan, "p.json"}, {kUsers, "2k"}, {kDuration, "90s"}, {kName, "override"}}),
       "p.json", "override", 2000, 90 * kNsPerSec, "http://127.0.0.1:9000/a"},
      {"--target rebases relative paths", true,
       Flags({{kTarget, "http://127.0.0.1:9003"}}), "loadplan.json", "default", 7,
       30 * kNsPerSec, "http://127.0.0.1:9003/b"},
  };
  for (const SourceCase& c : kCases) {
    FakeFiles files;
    files.files["p.json"] = kPlanFile;
    if (c.default_file_exists) files.files["loadplan.json"] = kDefaultFile;
    Result<ResolvedPlan> resolved = ResolvePlan(c.flags, &files);
    ASSERT_TRUE(resolved.ok()) << c.label << ": " << resolved.status().ToString();
    EXPECT_EQ(resolved->source, c.source) << c.label;
    EXPECT_EQ(resolved->plan.name, c.name) << c.label;
    EXPECT_EQ(resolved->plan.users, c.users) << c.label;
    EXPECT_EQ(resolved->plan.duration_ns, c.duration_ns) << c.label;
    ASSERT_EQ(resolved->plan.requests.size(), 1u) << c.label;
    EXPECT_EQ(resolved->plan.requests[0].url.ToString(), c.first_url) << c.label;
    // What is POSTed must read the same on the coordinator.
    Result<Plan> reparsed = ParsePlan(resolved->json);
    ASSERT_TRUE(reparsed.ok()) << c.label;
    EXPECT_EQ(reparsed->users, c.users) << c.label;
  }
}

TEST(ResolvePlanTest, SpawnRateFlagIsANumber) {
  FakeFiles files;
  files.files["p.json"] = kPlanFile;
  Result<ResolvedPlan> resolved =
      ResolvePlan(Flags({{kPlan, "p.json"}, {kRate, "2.5"}}), &files);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_DOUBLE_EQ(resolved->plan.spawn_rate, 2.5);
}

struct ErrorCase {
  const char* label;
  const char* file_content;  // as p.json; null = no file
  PlanFlags flags;
  const char* printed;  // FormatError of the Status
};

TEST(ResolvePlanTest, ErrorsNameThePathOrTheFlag) {
  const ErrorCase kCases[] = {
      {"nothing to run", nullptr, Flags({}),
       "loadctl: PLAN: no plan: give PLAN.json, put loadplan.json in the current "
       "directory, "
       "or use --target URL"},
      {"quick plan needs users", nullptr, Flags({{kTarget, "http://127.0.0.1:1"}}),
       "loadctl: invalid plan: --users: is required for a plan built from flags"},
      {"missing file", nullptr, Flags({{kPlan, "p.json"}}),
       "loadctl: invalid plan: p.json: cannot read: No such file or directory"},
      {"not JSON", "{users: 1}", Flags({{kPlan, "p.json"}}),
       "loadctl: invalid plan: p.json: invalid JSON at offset 1: Missing a name for "
       "object "
       "member."},
      {"bad field in the file",
       R"({"users": 1, "requests": [{"url": "http://h/", "method": "FETCH"}]})",
       Flags({{kPlan, "p.json"}}),
       "loadctl: invalid plan: $.requests[0].method: \"FETCH\" is not one of GET, POST, "
       "PUT, "
       "DELETE, PATCH, HEAD, OPTIONS"},
      {"bad flag value blames the flag", kPlanFile,
       Flags({{kPlan, "p.json"}, {kDuration, "3x"}}),
       "loadctl: invalid plan: --duration: \"3x\" needs a unit: ns, us, ms, s, m or h "
       "(e.g. "
       "30s)"},
      {"bad users flag", kPlanFile, Flags({{kPlan, "p.json"}, {kUsers, "-5"}}),
       "loadctl: invalid plan: --users: \"-5\" is not a count (e.g. 100, 10k)"},
      {"bad value in the file keeps the JSON path",
       R"({"users": 0, "target": "http://h/"})",
       Flags({{kPlan, "p.json"}, {kDuration, "5s"}}),
       "loadctl: invalid plan: $.users: must be between 1 and 10000000, got 0"},
  };
  for (const ErrorCase& c : kCases) {
    FakeFiles files;
    if (c.file_content != nullptr) files.files["p.json"] = c.file_content;
    Result<ResolvedPlan> resolved = ResolvePlan(c.flags, &files);
    ASSERT_FALSE(resolved.ok()) << c.label;
    EXPECT_EQ(FormatError(resolved.status()), c.printed) << c.label;
    EXPECT_EQ(ExitCodeFor(resolved.status()), kExitInvalidInput) << c.label;
  }
}

}  // namespace
}  // namespace loadd
