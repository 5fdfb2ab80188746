#include "ctl/report_command.h"

#include <gtest/gtest.h>

#include "ctl/csv_report.h"
#include "ctl/junit_report.h"
#include "ctl/report.h"
#include "ctl/report_html.h"
#include "ctl/test_fakes.h"
#include "ctl/test_runs.h"

namespace loadd {
namespace {

constexpr char kRunPath[] = "GET /v1/runs/r1700000000-3f2a";
constexpr char kHlog[] =
    "#[Histogram log format version 1.3]\n"
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
    "\"Interval_Compressed_Histogram\"\n"
    "Tag=GET_/a,0.000,1.000,15.000,HISTFAAAACl4nJNpmSzMwMDAxAABzFCaEUzOmNZg/wEi\n";

class ReportCommandTest : public ::testing::Test {
 protected:
  ReportCommandTest() {
    options_.run_id = "r1700000000-3f2a";
    world_.api.On(kRunPath, 200, kCiRunJson);
    world_.api.On(std::string(kRunPath) + "?timeline=0", 200, kCiRunJson);
    world_.api.On(std::string(kRunPath) + "/hlog", 200, kHlog);
  }
  Result<Outcome> Run(const char* format) {
    options_.format = format;
    return RunReport(options_, &world_.env);
  }
  FakeWorld world_;
  Options options_;
};

TEST_F(ReportCommandTest, EachFormatFetchesWhatItNeedsAndPrintsIt) {
  RunView run = ParseTestRun(kCiRunJson);
  struct Case {
    const char* format;
    const char* request;
    std::string want;
  };
  const Case kCases[] = {
      {"", kRunPath, FormatReport(run)},
      {"table", kRunPath, FormatReport(run)},
      {"json", kRunPath, std::string(kCiRunJson) + "\n"},
      {"csv", "GET /v1/runs/r1700000000-3f2a?timeline=0", FormatStatsCsv(run)},
      {"csv-history", kRunPath, FormatHistoryCsv(run)},
      {"hlog", "GET /v1/runs/r1700000000-3f2a/hlog", kHlog},
      {"junit", "GET /v1/runs/r1700000000-3f2a?timeline=0", FormatJunit(run)},
      {"html", kRunPath, FormatHtmlReport(run, kCiRunJson)},
  };
  for (const Case& c : kCases) {
    world_.out.str("");
    world_.api.requests.clear();
    Result<Outcome> outcome = Run(c.format);
    ASSERT_TRUE(outcome.ok()) << c.format << ": " << outcome.status().ToString();
    EXPECT_EQ(*outcome, Outcome::kSuccess);
    EXPECT_EQ(world_.api.requests, std::vector<std::string>{c.request}) << c.format;
    EXPECT_EQ(world_.out.str(), c.want) << c.format;
  }
}

TEST_F(ReportCommandTest, OutputGoesToTheFileNotStdout) {
  options_.output_file = "junit.xml";
  ASSERT_TRUE(Run("junit").ok());
  EXPECT_EQ(world_.out.str(), "");
  EXPECT_EQ(world_.files.files["junit.xml"], FormatJunit(ParseTestRun(kCiRunJson)));
}

TEST_F(ReportCommandTest, FilesAreOwnerOnlyUnlessModeSaysOtherwise) {
  options_.output_file = "run.json";
  ASSERT_TRUE(Run("json").ok());
  EXPECT_EQ(world_.files.modes["run.json"], 0600u);
  options_.file_mode = "0644";
  ASSERT_TRUE(Run("json").ok());
  EXPECT_EQ(world_.files.modes["run.json"], 0644u);
  options_.file_mode = "640";
  ASSERT_TRUE(Run("json").ok());
  EXPECT_EQ(world_.files.modes["run.json"], 0640u);
}

TEST_F(ReportCommandTest, ABadModeIsRefusedBeforeAnythingIsFetched) {
  options_.output_file = "run.json";
  for (const char* bad : {"999", "0x1a4", "-1", "01777", "rw-r--r--", " 644"}) {
    options_.file_mode = bad;
    world_.api.requests.clear();
    Result<Outcome> outcome = Run("json");
    ASSERT_FALSE(outcome.ok()) << bad;
    EXPECT_EQ(outcome.status().path(), "--mode") << bad;
    EXPECT_TRUE(world_.api.requests.empty()) << bad;
  }
  EXPECT_EQ(world_.files.files.count("run.json"), 0u);
}

TEST_F(ReportCommandTest, JsonFlagMeansTheJsonFormat) {
  options_.json = true;
  ASSERT_TRUE(Run("").ok());
  EXPECT_EQ(world_.out.str(), std::string(kCiRunJson) + "\n");
  world_.out.str("");
  ASSERT_TRUE(Run("json").ok());
  EXPECT_EQ(world_.out.str(), std::string(kCiRunJson) + "\n");
}

TEST_F(ReportCommandTest, BadChoicesNameTheFlagAndSendNothing) {
  struct Case {
    const char* format;
    bool json;
    const char* error;
  };
  const Case kCases[] = {
      {"xml", false,
       "--format: \"xml\" is not one of table, json, csv, csv-history, hlog, junit, "
       "html"},
      {"CSV", false,
       "--format: \"CSV\" is not one of table, json, csv, csv-history, hlog, junit, "
       "html"},
      {"csv", true, "--format: \"csv\" cannot be combined with --json"},
  };
  for (const Case& c : kCases) {
    options_.json = c.json;
    Result<Outcome> outcome = Run(c.format);
    ASSERT_FALSE(outcome.ok()) << c.format;
    EXPECT_EQ(ExitCodeFor(outcome), kExitInvalidInput);
    EXPECT_EQ(outcome.status().ToString(), c.error);
  }
  EXPECT_TRUE(world_.api.requests.empty());
}

TEST_F(ReportCommandTest, ACoordinatorWithoutTheHlogRouteIsAnError) {
  FakeWorld bare;
  bare.api.On(kRunPath, 200, kCiRunJson);
  options_.format = "hlog";
  Result<Outcome> outcome = RunReport(options_, &bare.env);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().ToString(),
            "GET http://fake:8089/v1/runs/r1700000000-3f2a/hlog: no such route");
  EXPECT_EQ(bare.out.str(), "");
}

}  // namespace
}  // namespace loadd
