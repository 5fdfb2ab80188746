#include "common/hdr_histogram.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/base64.h"

namespace loadd {
namespace {

using Buckets = std::vector<std::pair<int64_t, int64_t>>;

Buckets BucketsOf(const HdrHistogram& h) {
  Buckets out;
  h.ForEachBucket([&](int64_t value, int64_t count) { out.emplace_back(value, count); });
  return out;
}

HdrHistogram MustCreate(int64_t lowest, int64_t highest, int figures) {
  Result<HdrHistogram> h = HdrHistogram::Create(lowest, highest, figures);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return std::move(*h);
}

// ---- construction and bucket math ---------------------------------------------

struct CreateCase {
  int64_t lowest;
  int64_t highest;
  int figures;
  bool ok;
};
const CreateCase kCreateCases[] = {
    {1, 3'600'000'000, 3, true},
    {1, 2, 1, true},
    {10, 20, 3, true},
    {10, 19, 3, false},  // highest < 2 * lowest
    {0, 100, 3, false},
    {-5, 100, 3, false},
    {1, 1, 3, false},
    {1, 100, 0, false},
    {1, 100, 6, false},
    {1, std::numeric_limits<int64_t>::max(), 5, true},
    {int64_t{1} << 50, std::numeric_limits<int64_t>::max(), 5, false},  // magnitude > 61
};

TEST(HdrHistogramTest, CreateValidatesParameters) {
  for (const CreateCase& c : kCreateCases) {
    Result<HdrHistogram> h = HdrHistogram::Create(c.lowest, c.highest, c.figures);
    EXPECT_EQ(h.ok(), c.ok) << c.lowest << " " << c.highest << " " << c.figures;
    if (!h.ok()) {
      EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

// Expected values from the reference implementation's own tests for a
// (1, 3600 * 1000 * 1000, 3) histogram.
TEST(HdrHistogramTest, EquivalentValuesMatchReference) {
  const HdrHistogram h = HdrHistogram::ForLatencyMicros();
  const std::pair<int64_t, int64_t> lowest[] = {
      {10007, 10000}, {10009, 10008}, {1, 1}, {2047, 2047}, {2049, 2048}};
  for (auto [value, want] : lowest)
    EXPECT_EQ(h.LowestEquivalentValue(value), want) << value;
  const std::pair<int64_t, int64_t> highest[] = {{8180, 8183},   {8191, 8191},
                                                 {8193, 8199},   {9995, 9999},
                                                 {10007, 10007}, {10008, 10015}};
  for (auto [value, want] : highest)
    EXPECT_EQ(h.HighestEquivalentValue(value), want) << value;
}

TEST(HdrHistogramTest, LowestDiscernibleAboveOneSharesTheFirstBucket) {
  HdrHistogram h = MustCreate(1000, 1'000'000, 2);  // unit magnitude 9: 512-wide steps
  h.Record(0);
  h.Record(511);
  h.Record(512);
  EXPECT_EQ(BucketsOf(h), (Buckets{{511, 2}, {1023, 1}}));
  EXPECT_EQ(h.Min(), 0);
  EXPECT_EQ(h.Max(), 1023);
}

TEST(HdrHistogramTest, EmptyHistogramReportsZeros) {
  const HdrHistogram h = HdrHistogram::ForLatencyMicros();
  EXPECT_EQ(h.TotalCount(), 0);
  EXPECT_EQ(h.Min(), 0);
  EXPECT_EQ(h.Max(), 0);
  EXPECT_EQ(h.Mean(), 0);
  EXPECT_EQ(h.StdDev(), 0);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_TRUE(BucketsOf(h).empty());
}

TEST(HdrHistogramTest, SaturatesAboveHighestAndClampsNegatives) {
  HdrHistogram h = MustCreate(1, 1000, 3);
  h.Record(1001);  // still inside the counts array, but above the range
  h.Record(5000);
  h.RecordN(std::numeric_limits<int64_t>::max(), 2);
  h.Record(-7);
  h.RecordN(10, 0);   // ignored
  h.RecordN(10, -3);  // ignored
  EXPECT_EQ(h.TotalCount(), 5);
  EXPECT_EQ(h.saturated_count(), 4);
  EXPECT_EQ(BucketsOf(h), (Buckets{{0, 1}, {h.HighestEquivalentValue(1000), 4}}));
  EXPECT_EQ(h.Min(), 0);
  EXPECT_EQ(h.Max(), h.HighestEquivalentValue(1000));
  EXPECT_EQ(h.ValueAtPercentile(100), h.HighestEquivalentValue(1000));
  h.Reset();
  EXPECT_EQ(h.TotalCount(), 0);
  EXPECT_EQ(h.saturated_count(), 0);
  EXPECT_TRUE(BucketsOf(h).empty());
}

TEST(HdrHistogramTest, WidestRangeHandlesExtremeValues) {
  HdrHistogram h = MustCreate(1, std::numeric_limits<int64_t>::max(), 3);
  h.Record(std::numeric_limits<int64_t>::max());
  h.Record(1);
  EXPECT_EQ(h.Max(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(h.ValueAtPercentile(100), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(h.ValueAtPercentile(50), 1);
  Result<HdrHistogram> decoded = HdrHistogram::DecodeCompressed(h.EncodeCompressed());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(BucketsOf(*decoded), BucketsOf(h));
}

// ---- percentiles against a sorted-array oracle -----------------------------------

struct Distribution {
  const char* name;
  std::function<int64_t(std::mt19937_64&)> draw;
};

std::vector<Distribution> Distributions() {
  return {
      {"uniform",
       [](std::mt19937_64& r) {
         return std::uniform_int_distribution<int64_t>(0, 1'000'000)(r);
       }},
      {"exponential",
       [](std::mt19937_64& r) {
         return static_cast<int64_t>(
             std::exponential_distribution<double>(1 / 5000.0)(r));
       }},
      {"lognormal",
       [](std::mt19937_64& r) {
         return static_cast<int64_t>(std::lognormal_distribution<double>(8, 2)(r));
       }},
      {"bimodal",
       [](std::mt19937_64& r) {
         const bool slow = std::bernoulli_distribution(0.05)(r);
         return static_cast<int64_t>(
             std::normal_distribution<double>(slow ? 2e6 : 800, slow ? 1e5 : 50)(r));
       }},
      {"small",
       [](std::mt19937_64& r) {
         return std::uniform_int_distribution<int64_t>(0, 40)(r);
       }},
  };
}

struct Config {
  int64_t lowest;
  int64_t highest;
  int figures;
};
const Config kOracleConfigs[] = {{1, HdrHistogram::kLatencyHighestUs, 3},
                                 {1, 100'000'000, 2},
                                 {1, 100'000'000, 5},
                                 {100, 1'000'000'000, 4},
                                 {1, 1'000'000'000, 1}};
const double kPercentiles[] = {0, 1, 25, 50, 75, 90, 95, 99, 99.9, 100};

TEST(HdrHistogramTest, PercentilesMatchSortedOracle) {
  for (const Distribution& dist : Distributions()) {
    for (const Config& config : kOracleConfigs) {
      for (uint64_t seed = 1; seed <= 3; ++seed) {
        SCOPED_TRACE(std::string(dist.name) + " seed " + std::to_string(seed) +
                     " figures " + std::to_string(config.figures));
        std::mt19937_64 rng(seed);
        HdrHistogram h = MustCreate(config.lowest, config.highest, config.figures);
        std::vector<int64_t> values(5000 + seed * 1000);
        for (int64_t& v : values) {
          v = std::max<int64_t>(0, dist.draw(rng));
          h.Record(v);
        }
        std::sort(values.begin(), values.end());
        const auto n = static_cast<int64_t>(values.size());
        ASSERT_EQ(h.TotalCount(), n);
        for (double p : kPercentiles) {
          // Nearest rank: the ceil(p/100 * n)-th smallest value, at least the first.
          const auto rank =
              std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p * n / 100 - 1e-9)));
          const int64_t exact = values[rank - 1];
          const int64_t want =
              p == 0 ? h.LowestEquivalentValue(exact) : h.HighestEquivalentValue(exact);
          EXPECT_EQ(h.ValueAtPercentile(p), want) << "p" << p << " exact " << exact;
        }
        EXPECT_EQ(h.Min(), h.LowestEquivalentValue(values.front()));
        EXPECT_EQ(h.Max(), h.HighestEquivalentValue(values.back()));
        double sum = 0;
        for (int64_t v : values) sum += static_cast<double>(v);
        const double mean = sum / static_cast<double>(n);
        double squares = 0;
        for (int64_t v : values) squares += (v - mean) * (v - mean);
        const double stddev = std::sqrt(squares / static_cast<double>(n));
        // Each value moves by at most half a bucket: 10^-figures relative, or
        // one unit of lowest_discernible.
        const double tolerance = std::pow(10.0, -config.figures) * 1.5;
        EXPECT_NEAR(h.Mean(), mean,
                    mean * tolerance + static_cast<double>(config.lowest));
        EXPECT_NEAR(h.StdDev(), stddev,
                    (mean + stddev) * tolerance + static_cast<double>(config.lowest));
      }
    }
  }
}

TEST(HdrHistogramTest, PercentileEdgeCases) {
  HdrHistogram h = MustCreate(1, 1000, 3);
  h.Record(10);
  h.Record(20);
  EXPECT_EQ(h.ValueAtPercentile(50), 10);  // the 1st of 2 values, not the 2nd
  EXPECT_EQ(h.ValueAtPercentile(50.0001), 20);
  EXPECT_EQ(h.ValueAtPercentile(-5), 10);
  EXPECT_EQ(h.ValueAtPercentile(250), 20);
  EXPECT_EQ(h.ValueAtPercentile(std::nan("")), 10);
}

// ---- merge ----------------------------------------------------------------------

TEST(HdrHistogramTest, MergingPartsEqualsRecordingEverything) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> latency(7, 1.5);
  HdrHistogram all = HdrHistogram::ForLatencyMicros();
  HdrHistogram merged = HdrHistogram::ForLatencyMicros();
  for (int part = 0; part < 5; ++part) {
    HdrHistogram h = HdrHistogram::ForLatencyMicros();
    for (int i = 0; i < 2000; ++i) {
      const auto v = static_cast<int64_t>(latency(rng));
      h.Record(v);
      all.Record(v);
    }
    if (part == 3) {
      h.Record(HdrHistogram::kLatencyHighestUs * 2);
      all.Record(HdrHistogram::kLatencyHighestUs * 2);
    }
    merged.Merge(h);
  }
  EXPECT_EQ(BucketsOf(merged), BucketsOf(all));
  EXPECT_EQ(merged.TotalCount(), all.TotalCount());
  EXPECT_EQ(merged.Min(), all.Min());
  EXPECT_EQ(merged.Max(), all.Max());
  EXPECT_EQ(merged.saturated_count(), 1);
  for (double p : kPercentiles)
    EXPECT_EQ(merged.ValueAtPercentile(p), all.ValueAtPercentile(p));
}

TEST(HdrHistogramTest, MergeAcrossRangesClampsAndCountsSaturation) {
  HdrHistogram wide = MustCreate(1, 1'000'000'000, 3);
  wide.Record(5);
  wide.Record(50'000);
  wide.RecordN(500'000'000, 3);
  wide.Record(2'000'000'000);  // saturated in wide already
  HdrHistogram narrow = MustCreate(1, 1'000'000, 3);
  narrow.Merge(wide);
  EXPECT_EQ(narrow.TotalCount(), 6);
  EXPECT_EQ(narrow.saturated_count(), 4);  // 3 clamped here plus the one clamped in wide
  EXPECT_EQ(BucketsOf(narrow), (Buckets{{5, 1},
                                        {narrow.HighestEquivalentValue(50'000), 1},
                                        {narrow.HighestEquivalentValue(1'000'000), 4}}));

  // Nothing clamped here: only other's own saturation carries over.
  HdrHistogram wider = MustCreate(1, 10'000'000'000, 2);
  wider.Merge(wide);
  EXPECT_EQ(wider.TotalCount(), 6);
  EXPECT_EQ(wider.saturated_count(), 1);
}

// ---- encoding -------------------------------------------------------------------

std::string Inflate(std::string_view compressed) {
  std::string out(1 << 20, '\0');
  uLongf out_len = out.size();
  const int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &out_len,
                            reinterpret_cast<const Bytef*>(compressed.data() + 8),
                            compressed.size() - 8);
  EXPECT_EQ(rc, Z_OK);
  out.resize(out_len);
  return out;
}

void ExpectSameHistogram(const HdrHistogram& got, const HdrHistogram& want) {
  EXPECT_EQ(BucketsOf(got), BucketsOf(want));
  EXPECT_EQ(got.TotalCount(), want.TotalCount());
  EXPECT_EQ(got.Min(), want.Min());
  EXPECT_EQ(got.Max(), want.Max());
  EXPECT_DOUBLE_EQ(got.Mean(), want.Mean());
  EXPECT_EQ(got.lowest_discernible(), want.lowest_discernible());
  EXPECT_EQ(got.highest_trackable(), want.highest_trackable());
  EXPECT_EQ(got.significant_figures(), want.significant_figures());
  for (double p : kPercentiles)
    EXPECT_EQ(got.ValueAtPercentile(p), want.ValueAtPercentile(p));
}

TEST(HdrHistogramTest, EncodingRoundTrips) {
  std::mt19937_64 rng(9);
  for (const Config& config : kOracleConfigs) {
    for (int values : {0, 1, 7, 20000}) {
      SCOPED_TRACE(std::to_string(config.figures) + " figures, " +
                   std::to_string(values));
      HdrHistogram h = MustCreate(config.lowest, config.highest, config.figures);
      std::exponential_distribution<double> dist(1 / 20000.0);
      for (int i = 0; i < values; ++i)
        h.RecordN(static_cast<int64_t>(dist(rng)), 1 + i % 3);
      if (values == 7) h.RecordN(5, int64_t{1} << 60);  // a 9-byte LEB128 count
      const std::string base64 = h.EncodeBase64();
      EXPECT_EQ(base64.substr(0, 5), "HISTF");  // cookie 0x1c849314, as the reference
      Result<HdrHistogram> decoded = HdrHistogram::DecodeBase64(base64);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      ExpectSameHistogram(*decoded, h);
      // The plain V2 form decodes too.
      Result<HdrHistogram> plain =
          HdrHistogram::DecodeCompressed(Inflate(h.EncodeCompressed()));
      ASSERT_TRUE(plain.ok()) << plain.status().ToString();
      ExpectSameHistogram(*plain, h);
    }
  }
}

// (1, 2048, 3) holding one 2048, worked out from the V2 format: the value sits
// at counts index 2048, so the payload is zigzag(-2048) = 4095 = ff 1f, then
// zigzag(1) = 02. Java and HdrHistogram_c write the same stream.
const char kGolden2048V2[] =
    "\x1c\x84\x93\x13"                  // V2 cookie with the LEB128 word-size flag
    "\x00\x00\x00\x03"                  // payload bytes
    "\x00\x00\x00\x00"                  // normalizing index offset
    "\x00\x00\x00\x03"                  // significant figures
    "\x00\x00\x00\x00\x00\x00\x00\x01"  // lowest discernible
    "\x00\x00\x00\x00\x00\x00\x08\x00"  // highest trackable
    "\x3f\xf0\x00\x00\x00\x00\x00\x00"  // conversion ratio 1.0
    "\xff\x1f\x02";
const char kJavaAndC2048[] = "HISTFAAAACB4nJNpmSzMwMDAzAABMJoRQnEw2H+AsP7LMwEARZgDpQ==";

TEST(HdrHistogramTest, EncodesGoldenVectorLikeReference) {
  HdrHistogram h = MustCreate(1, 2048, 3);
  h.Record(2048);
  const std::string golden(kGolden2048V2, sizeof(kGolden2048V2) - 1);
  EXPECT_EQ(Inflate(h.EncodeCompressed()), golden);
  Result<std::string> reference = Base64Decode(kJavaAndC2048);
  ASSERT_TRUE(reference.ok());
  EXPECT_EQ(Inflate(*reference), golden);
  // With the same zlib (default level) even the deflated bytes agree; if only
  // this line fails, the zlib build changed, not the format.
  EXPECT_EQ(h.EncodeBase64(), kJavaAndC2048);

  // A lone empty bucket is written as count 0 (as Java and JS do), a run of
  // two or more as its negated length: counts 0 1 0 1 -> 00 02 00 02.
  HdrHistogram lone = MustCreate(1, 2048, 3);
  lone.Record(1);
  lone.Record(3);
  const std::string plain = Inflate(lone.EncodeCompressed());
  EXPECT_EQ(plain.substr(4, 4), std::string("\0\0\0\x04", 4));
  EXPECT_EQ(plain.substr(40), std::string("\x00\x02\x00\x02", 4));
  Result<HdrHistogram> decoded = HdrHistogram::DecodeBase64(kJavaAndC2048);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(BucketsOf(*decoded), (Buckets{{2049, 1}}));
}

struct ForeignCase {
  const char* origin;
  const char* base64;
  int64_t total;
  Buckets buckets;  // empty: not checked
  double mean;      // < 0: not checked
};

TEST(HdrHistogramTest, DecodesReferenceEncodings) {
  const ForeignCase cases[] = {
      // HdrHistogram_c's standard test histogram: (1, 3600 * 1000 * 1000, 3)
      // with 10000 x 1000 and 1 x 100000000. Its header claims a payload of 49
      // bytes, 40 more than there are, as HdrHistogram_c once wrote.
      {"C",
       "HISTFAAAACl4nJNpmSzMwMBgyAABzFCaEURcm7yEwf4DROA8/4I5jNM7mJgAlWkH9g==",
       10001,
       {{1000, 10000}, {100007935, 1}},
       -1},
      // hdr-histogram-js spec: one 42 (writes normalizing offset 1 and an
      // integer 1 as conversion ratio, both to be ignored).
      {"JS", "HISTFAAAAB542pNpmSzMwMDAxAABzFCaEUoz2X+AMIKZAEARAtM=", 1, {{42, 1}}, 42},
      {"JS", "HISTFAAAAB94nJNpmSzMwMDABMSMQMzMAAGMUJoJxg9mAgA1TQGm", 1, {{42, 1}}, 42},
  };
  for (const ForeignCase& c : cases) {
    SCOPED_TRACE(c.base64);
    Result<HdrHistogram> h = HdrHistogram::DecodeBase64(c.base64);
    ASSERT_TRUE(h.ok()) << c.origin << ": " << h.status().ToString();
    EXPECT_EQ(h->TotalCount(), c.total);
    if (!c.buckets.empty()) {
      EXPECT_EQ(BucketsOf(*h), c.buckets);
    }
    if (c.mean >= 0) {
      EXPECT_DOUBLE_EQ(h->Mean(), c.mean);
    }
  }
  Result<HdrHistogram> c_test = HdrHistogram::DecodeBase64(cases[0].base64);
  EXPECT_EQ(c_test->ValueAtPercentile(99.99), 1000);
  EXPECT_EQ(c_test->ValueAtPercentile(99.999), 100007935);
  EXPECT_EQ(c_test->Max(), 100007935);
  // Mean and deviation take each bucket at its middle: 1000 and 99942400 + 32768.
  const double mean = (1000.0 * 10000 + 99975168.0) / 10001;
  EXPECT_DOUBLE_EQ(c_test->Mean(), mean);
  const double deviation_sq = (10000 * (1000 - mean) * (1000 - mean) +
                               (99975168.0 - mean) * (99975168.0 - mean)) /
                              10001;
  EXPECT_NEAR(c_test->StdDev(), std::sqrt(deviation_sq), 1e-6);
  // Re-encoding a decoded C histogram gives the same V2 stream as C wrote,
  // but for that payload length.
  const std::string ours = Inflate(c_test->EncodeCompressed());
  const std::string theirs = Inflate(*Base64Decode(cases[0].base64));
  EXPECT_EQ(ours.substr(0, 4), theirs.substr(0, 4));
  EXPECT_EQ(ours.substr(4, 4), std::string("\0\0\0\x09", 4));
  EXPECT_EQ(ours.substr(8), theirs.substr(8));
}

// ---- malformed input -------------------------------------------------------------

std::string Deflate(std::string_view plain) {
  uLongf len = compressBound(plain.size());
  std::string out(len, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(out.data()), &len,
                     reinterpret_cast<const Bytef*>(plain.data()), plain.size()),
            Z_OK);
  out.resize(len);
  return out;
}

// The compressed framing around any bytes: cookie, length, zlib stream.
std::string Frame(std::string_view plain) {
  const std::string deflated = Deflate(plain);
  std::string out = "\x1c\x84\x93\x14";
  for (int shift = 24; shift >= 0; shift -= 8) {
    out += static_cast<char>(deflated.size() >> shift);
  }
  return out + deflated;
}

std::string V2Header(int32_t payload_bytes, int32_t figures, int64_t lowest,
                     int64_t highest) {
  std::string out = "\x1c\x84\x93\x13";
  auto put = [&](uint64_t v, int bytes) {
    for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
      out += static_cast<char>(v >> shift);
  };
  put(static_cast<uint32_t>(payload_bytes), 4);
  put(0, 4);
  put(static_cast<uint32_t>(figures), 4);
  put(static_cast<uint64_t>(lowest), 8);
  put(static_cast<uint64_t>(highest), 8);
  put(0x3ff0000000000000, 8);
  return out;
}

struct MalformedCase {
  const char* name;
  std::string bytes;
  std::string message_part;
};

TEST(HdrHistogramTest, RejectsMalformedEncodingsWithClearMessages) {
  HdrHistogram h = MustCreate(1, 2048, 3);
  h.Record(2048);
  const std::string valid = h.EncodeCompressed();
  const std::string golden(kGolden2048V2, sizeof(kGolden2048V2) - 1);
  const std::string one_zero_byte(1, '\0');  // a one-byte payload
  const MalformedCase cases[] = {
      {"empty", "", "too short"},
      {"wrong cookie", "\x12\x34\x56\x78" + valid.substr(4), "cookie 0x12345678"},
      {"V1 cookie", "\x1c\x84\x93\x22" + valid.substr(4), "V1 encoding"},
      {"truncated", valid.substr(0, valid.size() - 3), "compressed bytes but"},
      {"trailing bytes", valid + "xy", "compressed bytes but"},
      {"huge compressed length",
       valid.substr(0, 4) + "\x7f\xff\xff\xff" + valid.substr(8),
       "claims 2147483647 compressed bytes"},
      {"negative compressed length",
       valid.substr(0, 4) + "\xff\xff\xff\xff" + valid.substr(8), "claims -1"},
      {"not zlib", valid.substr(0, 8) + std::string(valid.size() - 8, 'x'),
       "corrupt zlib"},
      {"short zlib stream", Frame(golden.substr(0, 30)), "ends inside the V2 header"},
      {"zlib stream cut off",
       valid.substr(0, 4) + std::string("\0\0\0\x10", 4) + valid.substr(8, 16),
       "zlib stream is cut off"},
      {"payload longer than claimed", Frame(golden + "\x02"), "goes on past"},
      {"inner cookie", Frame("\x1c\x84\x93\x14" + golden.substr(4)), "inflated cookie"},
      {"figures 0", Frame(V2Header(1, 0, 1, 2048) + one_zero_byte),
       "significant figures 0"},
      {"figures 6", Frame(V2Header(1, 6, 1, 2048) + one_zero_byte),
       "significant figures 6"},
      {"lowest 0", Frame(V2Header(1, 3, 0, 2048) + one_zero_byte), "below 1"},
      {"highest < 2 lowest", Frame(V2Header(1, 3, 100, 150) + one_zero_byte),
       "below twice"},
      {"huge counts array",
       Frame(V2Header(1, 5, 1, std::numeric_limits<int64_t>::max()) + one_zero_byte),
       "over the limit"},
      {"huge payload claim", Frame(V2Header(0x7fffffff, 3, 1, 2048) + one_zero_byte),
       "payload length 2147483647"},
      {"negative payload claim", Frame(V2Header(-4, 3, 1, 2048)), "payload length -4"},
      {"zero run past the end", Frame(V2Header(3, 3, 1, 2048) + "\xff\xff\x01"),
       "goes past the 3072 buckets"},
      {"too many counts", Frame(V2Header(4, 3, 1, 2048) + "\xfd\x2f\x02\x02"),
       "more counts than"},
      {"value cut inside LEB128", Frame(V2Header(2, 3, 1, 2048) + "\x02\x80"),
       "end inside a value"},
      {"counts overflow",
       Frame(V2Header(18, 3, 1, 2048) + std::string(8, '\xfe') + "\xff" +
             std::string(8, '\xfe') + "\xff"),
       "more than 2^63-1"},
      {"plain, payload mismatch", golden + "\x02", "payload of 3 bytes but 4 follow"},
      {"plain, short", golden.substr(0, 20), "shorter than the 40-byte V2 header"},
  };
  for (const MalformedCase& c : cases) {
    Result<HdrHistogram> decoded = HdrHistogram::DecodeCompressed(c.bytes, 1 << 20);
    ASSERT_FALSE(decoded.ok()) << c.name;
    EXPECT_NE(decoded.status().message().find(c.message_part), std::string::npos)
        << c.name << ": got \"" << decoded.status().message() << "\", want \""
        << c.message_part << "\"";
  }
  Result<HdrHistogram> bad_base64 = HdrHistogram::DecodeBase64("HIST*AAA");
  ASSERT_FALSE(bad_base64.ok());
  EXPECT_NE(bad_base64.status().message().find("invalid '*'"), std::string::npos);
  EXPECT_FALSE(HdrHistogram::DecodeBase64("  \n").ok());
  EXPECT_TRUE(HdrHistogram::DecodeBase64("  " + h.EncodeBase64() + "\n").ok());
}

TEST(HdrHistogramTest, CountsLimitIsEnforced) {
  const HdrHistogram h = HdrHistogram::ForLatencyMicros();  // 23552 counts
  EXPECT_TRUE(HdrHistogram::DecodeCompressed(h.EncodeCompressed(), 23552 * 8).ok());
  Result<HdrHistogram> over =
      HdrHistogram::DecodeCompressed(h.EncodeCompressed(), 23551 * 8);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
}

// Random damage to valid encodings, compressed (mostly caught by zlib's
// checksum) and plain (re-framed, so the V2 parser sees the damage) never
// crashes, and whatever still decodes is self-consistent.
TEST(HdrHistogramTest, SurvivesRandomMutations) {
  std::mt19937_64 rng(2024);
  HdrHistogram h = MustCreate(1, 10'000'000, 3);
  std::lognormal_distribution<double> dist(6, 2);
  for (int i = 0; i < 3000; ++i) h.Record(static_cast<int64_t>(dist(rng)));
  const std::string compressed = h.EncodeCompressed();
  const std::string plain = Inflate(compressed);
  int decoded_ok = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string bytes = round % 2 == 0 ? compressed : plain;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 4) {
        case 0:
          bytes[at] = static_cast<char>(rng());
          break;
        case 1:
          bytes[at] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 2:
          bytes.resize(at + 1);
          break;
        case 3:
          bytes.insert(at, 1, static_cast<char>(rng()));
          break;
      }
    }
    if (round % 2 == 1) bytes = Frame(bytes);
    Result<HdrHistogram> decoded = HdrHistogram::DecodeCompressed(bytes, 4 << 20);
    if (!decoded.ok()) {
      EXPECT_FALSE(decoded.status().message().empty());
      continue;
    }
    ++decoded_ok;
    int64_t total = 0;
    decoded->ForEachBucket([&](int64_t, int64_t count) {
      EXPECT_GT(count, 0);
      total += count;
    });
    EXPECT_EQ(total, decoded->TotalCount());
    EXPECT_LE(decoded->ValueAtPercentile(50), decoded->Max());
  }
  EXPECT_GT(decoded_ok, 0);  // some damage (to counts) leaves a valid histogram
}

}  // namespace
}  // namespace loadd

namespace loadd {
namespace {

// Fuzz finding: a zero run of INT64_MIN buckets negated INT64_MIN (undefined
// behaviour) while building the error message.
TEST(HdrHistogramRegressionTest, ZeroRunOfInt64MinIsAnErrorNotUndefinedBehaviour) {
  Result<HdrHistogram> h = HdrHistogram::DecodeBase64(
      "HISTMwAAACUEASgBAAAAAQAA////AaYAKsEqCQAB///9//////uTNAAAACX//////////////////"
      "+3aACgBAwAAKgAA"
      "AQnIIEgBAAA=");
  EXPECT_FALSE(h.ok());
}

}  // namespace
}  // namespace loadd

namespace loadd {
namespace {

// The coordinator merges thousands of decoded one-second deltas a second:
// decoded and untouched histograms keep only their non-zero buckets, and
// must behave exactly as dense ones do (read, merged from, written to).
TEST(HdrHistogramRegressionTest, DecodedSparseHistogramBehavesLikeDense) {
  HdrHistogram dense = HdrHistogram::ForLatencyMicros();
  for (int64_t v : {0, 1, 7, 1500, 1501, 2049, 250'000, 250'100, 9'000'000}) {
    dense.RecordN(v, v % 5 + 1);
  }
  Result<HdrHistogram> sparse = HdrHistogram::DecodeBase64(dense.EncodeBase64());
  ASSERT_TRUE(sparse.ok()) << sparse.status().ToString();
  EXPECT_EQ(sparse->EncodeBase64(), dense.EncodeBase64());
  EXPECT_EQ(sparse->TotalCount(), dense.TotalCount());
  EXPECT_EQ(sparse->Min(), dense.Min());
  EXPECT_EQ(sparse->Max(), dense.Max());
  EXPECT_DOUBLE_EQ(sparse->Mean(), dense.Mean());
  EXPECT_DOUBLE_EQ(sparse->StdDev(), dense.StdDev());
  for (double p : {0.0, 10.0, 50.0, 90.0, 99.0, 100.0}) {
    EXPECT_EQ(sparse->ValueAtPercentile(p), dense.ValueAtPercentile(p)) << p;
  }
  // Merging the sparse form equals merging the dense one.
  HdrHistogram a = HdrHistogram::ForLatencyMicros();
  HdrHistogram b = HdrHistogram::ForLatencyMicros();
  a.Merge(*sparse);
  b.Merge(dense);
  EXPECT_EQ(a.EncodeBase64(), b.EncodeBase64());
  // Recording into a decoded histogram turns it dense without losing counts.
  sparse->Record(42);
  dense.Record(42);
  EXPECT_EQ(sparse->EncodeBase64(), dense.EncodeBase64());
  EXPECT_EQ(sparse->ValueAtPercentile(50), dense.ValueAtPercentile(50));
  // A new, untouched histogram encodes as an empty one always did.
  HdrHistogram empty = HdrHistogram::ForLatencyMicros();
  Result<HdrHistogram> round = HdrHistogram::DecodeBase64(empty.EncodeBase64());
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->TotalCount(), 0);
  empty.Reset();
  EXPECT_EQ(empty.ValueAtPercentile(99), 0);
}

}  // namespace
}  // namespace loadd
