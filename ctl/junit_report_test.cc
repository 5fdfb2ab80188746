#include "ctl/junit_report.h"

#include <gtest/gtest.h>

#include "ctl/test_runs.h"

namespace loadd {
namespace {

TEST(XmlEscapeTest, EntitiesAndControlBytes) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case kCases[] = {
      {"plain", "plain"},
      {"a<b&c>d", "a&lt;b&amp;c&gt;d"},
      {"\"it's\"", "&quot;it&apos;s&quot;"},
      {"tab\there\nnew\rline", "tab&#9;here&#10;new&#13;line"},
      {"bell\x07", "bell?"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},  // UTF-8 passes through
  };
  for (const Case& c : kCases) EXPECT_EQ(XmlEscape(c.text), c.want) << c.text;
}

TEST(FormatJunitTest, OneCasePerThresholdAndCheck) {
  EXPECT_EQ(
      FormatJunit(ParseTestRun(kCiRunJson)),
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuite name=\"loadd r1700000000-3f2a\" tests=\"4\" failures=\"2\" "
      "errors=\"0\" skipped=\"0\" time=\"3.000\">\n"
      "  <testcase classname=\"loadd.thresholds\" name=\"http.p95 &lt;250ms\">\n"
      "    <system-out>actual 5.00ms meets &lt;250ms</system-out>\n"
      "  </testcase>\n"
      "  <testcase classname=\"loadd.thresholds\" name=\"http.error_rate &lt;0.5%\">\n"
      "    <failure message=\"actual 1.00% misses &lt;0.5%\"/>\n"
      "  </testcase>\n"
      "  <testcase classname=\"loadd.checks\" "
      "name=\"login: status is 200 &lt;&amp;&quot;&gt;\">\n"
      "    <failure message=\"10 of 1000 failed\"/>\n"
      "  </testcase>\n"
      "  <testcase classname=\"loadd.checks\" name=\"cart: body has id\">\n"
      "    <system-out>all 2000 passed</system-out>\n"
      "  </testcase>\n"
      "</testsuite>\n");
}

TEST(FormatJunitTest, ARunWithoutThresholdsOrChecksIsOneCase) {
  struct Case {
    const char* json;
    const char* want_case;
    const char* want_counts;
  };
  const Case kCases[] = {
      {R"({"id": "r1", "state": "finished"})",
       "  <testcase classname=\"loadd.run\" name=\"run finished\"/>\n",
       "tests=\"1\" failures=\"0\""},
      {R"({"id": "r1", "state": "failed", "message": "all workers lost <3>"})",
       "  <testcase classname=\"loadd.run\" name=\"run failed\">\n"
       "    <failure message=\"all workers lost &lt;3&gt;\"/>\n  </testcase>\n",
       "tests=\"1\" failures=\"1\""},
      {R"({"id": "r1", "state": "stopped"})",
       "  <testcase classname=\"loadd.run\" name=\"run stopped\">\n"
       "    <failure message=\"the run ended stopped\"/>\n  </testcase>\n",
       "tests=\"1\" failures=\"1\""},
  };
  for (const Case& c : kCases) {
    std::string xml = FormatJunit(ParseTestRun(c.json));
    EXPECT_NE(xml.find(c.want_case), std::string::npos) << xml;
    EXPECT_NE(xml.find(c.want_counts), std::string::npos) << xml;
  }
}

TEST(FormatJunitTest, AFailedRunNeverReadsGreen) {
  RunView run = ParseTestRun(kCiRunJson);
  run.state = "failed";
  run.message = "all workers lost";
  for (ThresholdView& t : run.thresholds) t.passed = true;
  for (CheckView& c : run.checks) c.failed = 0;
  std::string xml = FormatJunit(run);
  EXPECT_NE(xml.find("tests=\"5\" failures=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"run failed\">\n    <failure message=\"all workers lost\"/>"),
            std::string::npos)
      << xml;
}

TEST(FormatJunitTest, AThresholdWithoutMessageSaysWhatItMeasured) {
  RunView run = ParseTestRun(R"({"id": "r1", "state": "finished", "thresholds": [
      {"key": "http.rps", "condition": ">100", "actual": 42.5, "passed": false}]})");
  EXPECT_NE(FormatJunit(run).find("<failure message=\"actual 42.5/s misses &gt;100\"/>"),
            std::string::npos);
}

}  // namespace
}  // namespace loadd
