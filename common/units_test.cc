#include "common/units.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

struct DurationCase {
  const char* text;
  int64_t want_ns;  // -1: must be rejected
};

TEST(UnitsTest, ParseDuration) {
  const DurationCase kCases[] = {
      {"0", 0},
      {"250ms", 250'000'000},
      {"30s", 30'000'000'000},
      {"1m30s", 90'000'000'000},
      {"1.5s", 1'500'000'000},
      {"2h", 7'200'000'000'000},
      {"17us", 17'000},
      {"5ns", 5},
      {"", -1},
      {"10", -1},
      {"ms", -1},
      {"5 s", -1},
      {"1d", -1},
      {"-1s", -1},
      {"1.s", -1},
      {"9999h", -1},
  };
  for (const auto& c : kCases) {
    Result<int64_t> got = ParseDurationNs(c.text);
    if (c.want_ns < 0) {
      EXPECT_FALSE(got.ok()) << c.text;
    } else {
      ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().ToString();
      EXPECT_EQ(*got, c.want_ns) << c.text;
    }
  }
}

TEST(UnitsTest, ParseCount) {
  EXPECT_EQ(*ParseCount("10k"), 10'000);
  EXPECT_EQ(*ParseCount("2.5k"), 2'500);
  EXPECT_EQ(*ParseCount("3M"), 3'000'000);
  EXPECT_EQ(*ParseCount("42"), 42);
  EXPECT_FALSE(ParseCount("1.5").ok());
  EXPECT_FALSE(ParseCount("10x").ok());
  EXPECT_FALSE(ParseCount("-3").ok());
  EXPECT_FALSE(ParseCount("").ok());
}

TEST(UnitsTest, ParseSize) {
  EXPECT_EQ(*ParseSizeBytes("10k"), 10 * 1024);
  EXPECT_EQ(*ParseSizeBytes("1MiB"), 1024 * 1024);
  EXPECT_EQ(*ParseSizeBytes("100"), 100);
  EXPECT_FALSE(ParseSizeBytes("10 q").ok());
}

TEST(UnitsTest, Format) {
  EXPECT_EQ(FormatDurationNs(30'000'000'000), "30s");
  EXPECT_EQ(FormatDurationNs(250'000'000), "250ms");
  EXPECT_EQ(FormatMicros(812), "812us");
  EXPECT_EQ(FormatMicros(20'300), "20.3ms");
  EXPECT_EQ(FormatMicros(1'200'000), "1.20s");
}

}  // namespace
}  // namespace loadd
