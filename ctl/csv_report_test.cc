#include "ctl/csv_report.h"

#include <gtest/gtest.h>

#include "ctl/test_runs.h"

namespace loadd {
namespace {

TEST(CsvFieldTest, QuotesOnlyWhenNeeded) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case kCases[] = {
      {"", ""},
      {"/a b", "/a b"},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      {"cr\r", "\"cr\r\""},
  };
  for (const Case& c : kCases) EXPECT_EQ(CsvField(c.text), c.want) << c.text;
}

TEST(FormatCsvMillisTest, AtMostThreeDecimals) {
  struct Case {
    double us;
    const char* want;
  };
  const Case kCases[] = {
      {0, "0"},      {1000, "1"},      {20051, "20.051"}, {20410.3, "20.41"},
      {1500, "1.5"}, {999.4, "0.999"}, {0.4, "0"},        {2000000, "2000"},
  };
  for (const Case& c : kCases) EXPECT_EQ(FormatCsvMillis(c.us), c.want) << c.us;
}

TEST(FormatStatsCsvTest, LocustColumnsAndAggregatedLast) {
  EXPECT_EQ(
      FormatStatsCsv(ParseTestRun(kCiRunJson)),
      "Type,Name,Request Count,Failure Count,Median Response Time,"
      "Average Response Time,Min Response Time,Max Response Time,"
      "Average Content Size,Requests/s,Failures/s,"
      "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
      "GET,/a,2000,20,2,2.512,1,15,200,666.70,6.67,2,,,,4,5,,9,12,,15\n"
      "POST,\"login, \"\"quoted\"\"\",1000,10,3,3.125,1.5,20,0,333.30,3.33,"
      "3,,,,4.5,6,,9.5,11,,20\n"
      ",Aggregated,3000,30,2.5,2.716,1,20,133,1000.00,10.00,2.5,,,,4.2,5,,9,12,,20\n");
}

TEST(FormatStatsCsvTest, TypeComesFromTheNameWhenTheCoordinatorGivesNoMethod) {
  struct Case {
    const char* name;
    const char* method;
    const char* want_prefix;
  };
  const Case kCases[] = {
      {"GET /a", "", "GET,/a,"},
      {"DELETE /cart/1", "", "DELETE,/cart/1,"},
      {"GETTER /a", "", ",GETTER /a,"},
      {"checkout", "", ",checkout,"},
      {"checkout", "POST", "POST,checkout,"},
      {"POST /login", "POST", "POST,/login,"},
  };
  for (const Case& c : kCases) {
    RunView run;
    run.endpoints.push_back(EndpointView{});
    run.endpoints[0].name = c.name;
    run.endpoints[0].method = c.method;
    std::string csv = FormatStatsCsv(run);
    std::string row = csv.substr(csv.find('\n') + 1);
    EXPECT_EQ(row.substr(0, std::string(c.want_prefix).size()), c.want_prefix) << c.name;
  }
}

TEST(FormatHistoryCsvTest, OneAggregatedRowPerSecond) {
  EXPECT_EQ(FormatHistoryCsv(ParseTestRun(kCiRunJson)),
            "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,99%,"
            "Max Response Time,Total Request Count,Total Failure Count\n"
            "1700000000,10,,Aggregated,1000.00,10.00,2,5,9,15,1000,10\n"
            "1700000001,10,,Aggregated,1000.00,20.00,2.5,5.5,9.5,20,2000,30\n"
            "1700000002,5,,Aggregated,1000.00,0.00,2,4,8,10,3000,30\n");
}

TEST(FormatHistoryCsvTest, WithoutACreationTimeTheRunsSecondIsTheTimestamp) {
  RunView run = ParseTestRun(kCiRunJson);
  run.created_at = "yesterday";
  std::string csv = FormatHistoryCsv(run);
  EXPECT_NE(csv.find("\n0,10,,Aggregated,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n2,5,,Aggregated,"), std::string::npos) << csv;
}

}  // namespace
}  // namespace loadd
