#include "daemon/coordinator/hlog.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <vector>

namespace loadd {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> parts;
  std::istringstream in(line);
  for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
  return parts;
}

TEST(HlogTest, TagsHaveNoDelimiters) {
  struct Case {
    const char* name;
    const char* tag;
  };
  const Case cases[] = {
      {"GET /x", "GET_/x"},
      {"a, b", "a__b"},
      {"line\r\nbreak\ttab", "line__break_tab"},
      {"", "_"},
      {"/items/[id]?q=1", "/items/[id]?q=1"},
  };
  for (const Case& c : cases) EXPECT_EQ(HlogTag(c.name), c.tag) << c.name;
}

TEST(HlogTest, FormatIsTheStandardIntervalLog) {
  IntervalLog log;
  HdrHistogram a = HdrHistogram::ForLatencyMicros();
  for (int i = 1; i <= 100; ++i) a.Record(1000 * i);  // 1..100 ms
  HdrHistogram b = HdrHistogram::ForLatencyMicros();
  b.RecordN(250, 7);
  HdrHistogram empty = HdrHistogram::ForLatencyMicros();
  log.Add(0, "GET /a", a);
  log.Add(0, "POST /b, c", b);
  log.Add(0, "idle", empty);  // skipped
  log.Add(1, "GET /a", b);
  EXPECT_EQ(log.intervals(), 3u);

  std::string text = log.Format(1700000000.25);
  EXPECT_EQ(text.back(), '\n');
  std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "#[Histogram log format version 1.3]");
  EXPECT_EQ(lines[1],
            "#[StartTime: 1700000000.250 (seconds since epoch), Tue Nov 14 22:13:20 UTC "
            "2023]");
  EXPECT_EQ(lines[2], "#[BaseTime: 1700000000.250 (seconds since epoch)]");
  EXPECT_EQ(
      lines[3],
      R"("StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram")");

  struct Want {
    const char* tag;
    const char* start;
    const char* max_ms;
    int64_t count;
  };
  const Want want[] = {{"GET_/a", "0.000", "100.031", 100},  // 100 ms's bucket top
                       {"POST_/b__c", "0.000", "0.250", 7},
                       {"GET_/a", "1.000", "0.250", 7}};
  for (size_t i = 0; i < 3; ++i) {
    std::vector<std::string> f = Split(lines[4 + i], ',');
    ASSERT_EQ(f.size(), 5u) << lines[4 + i];
    EXPECT_EQ(f[0], std::string("Tag=") + want[i].tag);
    EXPECT_EQ(f[1], want[i].start);
    EXPECT_EQ(f[2], "1.000");
    EXPECT_EQ(f[3], want[i].max_ms);
    Result<HdrHistogram> h = HdrHistogram::DecodeBase64(f[4]);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(h->TotalCount(), want[i].count);
    EXPECT_DOUBLE_EQ(std::strtod(f[3].c_str(), nullptr), h->Max() / 1000.0);
  }
  Result<HdrHistogram> first = HdrHistogram::DecodeBase64(Split(lines[4], ',')[4]);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->ValueAtPercentile(50), a.ValueAtPercentile(50));
  EXPECT_EQ(first->ValueAtPercentile(99), a.ValueAtPercentile(99));
}

TEST(HlogTest, SizeIsBounded) {
  constexpr size_t kLimit = 64 << 10;
  IntervalLog log(kLimit);
  HdrHistogram h = HdrHistogram::ForLatencyMicros();
  for (int64_t v = 1; v < 3'000'000; v = v * 11 / 10 + 1) h.Record(v);
  std::string name(200, 'n');
  size_t line_bytes = h.EncodeBase64().size() + name.size();
  int64_t fits = static_cast<int64_t>(kLimit / line_bytes);
  for (int64_t t = 0; t < fits + 10; ++t) log.Add(t, name, h);
  EXPECT_GE(log.dropped(), 10);
  EXPECT_EQ(static_cast<int64_t>(log.intervals()) + log.dropped(), fits + 10);
  std::string text = log.Format(0);
  EXPECT_LE(text.size(), kLimit + 512);
  EXPECT_NE(text.find("intervals left out"), std::string::npos);
}

}  // namespace
}  // namespace loadd
