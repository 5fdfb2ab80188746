#include "common/wire_stats.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace loadd {
namespace {

StatsMsg Sample(uint64_t seed, int endpoints, int values_per_endpoint) {
  std::mt19937_64 rng(seed);
  StatsMsg m;
  m.run_id = "r-42";
  m.seq = 17;
  m.users = 250;
  m.cpu_percent = 37.25;
  m.dropped = 3;
  m.interval_ms = 1000;
  for (int i = 0; i < endpoints; ++i) {
    EndpointStats e;
    e.name = "GET /item/" + std::to_string(i) + " \xc3\xa9";  // UTF-8 passes
    std::lognormal_distribution<double> latency(std::log(2000.0 + 1000.0 * i), 0.8);
    for (int k = 0; k < values_per_endpoint; ++k) {
      e.latency_us.Record(static_cast<int64_t>(latency(rng)));
      e.service_us.Record(static_cast<int64_t>(latency(rng) / 2));
    }
    e.latency_us.RecordN(HdrHistogram::kLatencyHighestUs * 2, 2);  // saturates
    e.requests = values_per_endpoint + 2;
    e.failures = 2;
    e.errors[static_cast<int>(ErrorKind::kTimeout)] = 2;
    e.bytes_in = 1200 * e.requests;
    m.endpoints.push_back(std::move(e));
  }
  m.checks.push_back(CheckCount{"login: status == 200", 40, 2});
  return m;
}

void ExpectSameHistogram(const HdrHistogram& got, const HdrHistogram& want,
                         const std::string& what) {
  EXPECT_EQ(got.EncodeCompressed(), want.EncodeCompressed()) << what;
  EXPECT_EQ(got.TotalCount(), want.TotalCount()) << what;
  EXPECT_EQ(got.Min(), want.Min()) << what;
  EXPECT_EQ(got.Max(), want.Max()) << what;
  for (double p : {0.0, 50.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(got.ValueAtPercentile(p), want.ValueAtPercentile(p)) << what << " p" << p;
  }
}

TEST(WireStatsTest, StatsTravelInBinaryAndDecodeAsTheJsonFormDoes) {
  StatsMsg m = Sample(1, 20, 200);
  std::string binary = EncodeMessage(m);
  ASSERT_TRUE(IsBinaryStats(binary));
  std::string json = EncodeMessageAsJson(m);
  ASSERT_EQ(json.front(), '{');
  // Much smaller than JSON with base64 of zlib, too.
  EXPECT_LT(binary.size(), json.size());

  Result<Message> from_binary = DecodeMessage(binary);
  Result<Message> from_json = DecodeMessage(json);
  ASSERT_TRUE(from_binary.ok()) << from_binary.status().ToString();
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  const StatsMsg& b = std::get<StatsMsg>(*from_binary);
  const StatsMsg& j = std::get<StatsMsg>(*from_json);
  EXPECT_EQ(b.run_id, "r-42");
  EXPECT_EQ(b.seq, 17);
  EXPECT_EQ(b.users, 250);
  EXPECT_EQ(b.cpu_percent, 37.25);
  EXPECT_FALSE(b.final);
  EXPECT_EQ(b.dropped, 3);
  EXPECT_EQ(b.interval_ms, 1000);
  ASSERT_EQ(b.endpoints.size(), 20u);
  ASSERT_EQ(j.endpoints.size(), 20u);
  for (size_t i = 0; i < b.endpoints.size(); ++i) {
    const EndpointStats& want = m.endpoints[i];
    EXPECT_EQ(b.endpoints[i].name, want.name);
    EXPECT_EQ(b.endpoints[i].requests, want.requests);
    EXPECT_EQ(b.endpoints[i].failures, want.failures);
    EXPECT_EQ(b.endpoints[i].bytes_in, want.bytes_in);
    EXPECT_EQ(b.endpoints[i].errors, want.errors);
    ExpectSameHistogram(b.endpoints[i].latency_us, want.latency_us, want.name);
    ExpectSameHistogram(b.endpoints[i].latency_us, j.endpoints[i].latency_us, "json");
    ExpectSameHistogram(b.endpoints[i].service_us, want.service_us, want.name);
  }
  ASSERT_EQ(b.checks.size(), 1u);
  EXPECT_EQ(b.checks[0].name, "login: status == 200");
  EXPECT_EQ(b.checks[0].passed, 40);
  EXPECT_EQ(b.checks[0].failed, 2);
  // Stable: what decodes encodes to the same bytes.
  EXPECT_EQ(EncodeMessage(*from_binary), binary);
  EXPECT_EQ(EncodeMessage(*from_json), binary);
}

TEST(WireStatsTest, SeqSitsAtItsFixedOffset) {
  StatsMsg m = Sample(2, 1, 5);
  m.seq = 0x0102030405;
  m.final = true;
  std::string bytes = EncodeBinaryStats(m);
  EXPECT_EQ(bytes.substr(0, 4), "LDST");
  EXPECT_EQ(bytes[4], 1);
  EXPECT_EQ(bytes[5], 1);  // final
  EXPECT_EQ(bytes.substr(kBinaryStatsSeqOffset, 8),
            std::string("\0\0\0\x01\x02\x03\x04\x05", 8));
  Result<StatsMsg> decoded = DecodeBinaryStats(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->final);
  EXPECT_EQ(decoded->seq, 0x0102030405);
}

TEST(WireStatsTest, EmptyAndOtherLayoutsRoundTrip) {
  StatsMsg m;
  m.run_id = "";
  EndpointStats empty;
  m.endpoints.push_back(empty);
  EndpointStats other;
  other.name = "ms";
  other.latency_us = *HdrHistogram::Create(1000, 60'000'000, 2);
  other.latency_us.Record(5'000);
  other.latency_us.Record(70'000'000);  // clamped to its top
  m.endpoints.push_back(other);
  Result<Message> decoded = DecodeMessage(EncodeMessage(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const StatsMsg& got = std::get<StatsMsg>(*decoded);
  ASSERT_EQ(got.endpoints.size(), 2u);
  EXPECT_EQ(got.endpoints[0].latency_us.TotalCount(), 0);
  EXPECT_EQ(got.endpoints[1].latency_us.lowest_discernible(), 1000);
  EXPECT_EQ(got.endpoints[1].latency_us.significant_figures(), 2);
  ExpectSameHistogram(got.endpoints[1].latency_us, other.latency_us, "other layout");
}

// What the coordinator computes from the decoded deltas of many workers and
// seconds is what one histogram recording every value holds.
TEST(WireStatsTest, MergedDeltasEqualRecordingEveryValue) {
  HdrHistogram everything = HdrHistogram::ForLatencyMicros();
  HdrHistogram merged = HdrHistogram::ForLatencyMicros();
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(std::log(5000.0), 1.5);
  for (int message = 0; message < 50; ++message) {
    StatsMsg m;
    m.run_id = "r";
    EndpointStats e;
    e.name = "a";
    for (int i = 0; i < 300; ++i) {
      const auto v = static_cast<int64_t>(latency(rng));
      e.latency_us.Record(v);
      everything.Record(v);
    }
    m.endpoints.push_back(std::move(e));
    Result<Message> decoded = DecodeMessage(EncodeMessage(m));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    merged.Merge(std::get<StatsMsg>(*decoded).endpoints[0].latency_us);
  }
  ExpectSameHistogram(merged, everything, "merged");
  EXPECT_DOUBLE_EQ(merged.Mean(), everything.Mean());
  EXPECT_DOUBLE_EQ(merged.StdDev(), everything.StdDev());
}

// ---- hostile bytes --------------------------------------------------------------

// Builds binary stats field by field, to break one thing at a time.
class Bytes {
 public:
  Bytes() = default;
  explicit Bytes(std::string start) : out_(std::move(start)) {}
  Bytes& Raw(std::string_view s) {
    out_ += s;
    return *this;
  }
  Bytes& Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  Bytes& Fixed(uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8)
      out_.push_back(static_cast<char>(v >> shift));
    return *this;
  }
  Bytes& Str(std::string_view s) { return Varint(s.size()).Raw(s); }
  // Magic, version, flags, seq, users, dropped, interval_ms, cpu, run_id.
  Bytes& Header(int version = 1, int flags = 0, uint64_t interval_ms = 1000,
                double cpu = 1.5) {
    Raw("LDST").Raw(std::string(1, static_cast<char>(version)));
    Raw(std::string(1, static_cast<char>(flags))).Fixed(9).Varint(5).Varint(0);
    return Varint(interval_ms).Fixed(std::bit_cast<uint64_t>(cpu)).Str("r");
  }
  // An endpoint's fields before its histograms.
  Bytes& EndpointHead(std::string_view name = "a") {
    Str(name).Varint(1).Varint(0).Varint(10);
    for (int i = 0; i < 6; ++i) Varint(0);
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

const std::string kEmptyHistogram = std::string("\0\0", 2);  // latency layout, 0 buckets

struct HostileCase {
  const char* what;
  std::string bytes;
  const char* path;     // the Status's path
  const char* message;  // part of its message
};

TEST(WireStatsTest, HostileBytesAreRejectedWithTheFieldAndOffset) {
  // 14 bytes after the endpoint count: as many as the smallest endpoint.
  const std::string one_endpoint_head =
      Bytes().Header().Varint(1).EndpointHead("abcd").str();
  const std::string padding(20, '\0');  // so that the endpoint count fits
  const HostileCase kCases[] = {
      {"magic only", "LDST", "$.version", "ends early"},
      {"version 2", Bytes().Header(2).Varint(0).Varint(0).str(), "$.version",
       "format version 2"},
      {"unknown flag", Bytes().Header(1, 0x82).Varint(0).Varint(0).str(), "$.final",
       "unknown bits"},
      {"interval 5 ms", Bytes().Header(1, 0, 5).Varint(0).Varint(0).str(),
       "$.interval_ms", "5 is outside 10..60000"},
      {"NaN cpu", Bytes().Header(1, 0, 1000, std::nan("")).Varint(0).Varint(0).str(),
       "$.cpu_percent", "not a finite number"},
      {"257 endpoints", Bytes().Header().Varint(257).str(), "$.endpoints",
       "outside 0..256"},
      {"more endpoints than bytes", Bytes().Header().Varint(200).Raw("xyz").str(),
       "$.endpoints", "cannot fit"},
      {"name past the end", Bytes().Header().Varint(1).Varint(100).Raw(padding).str(),
       "$.endpoints[0].name", "goes past the message's end"},
      {"name not UTF-8",
       Bytes()
           .Header()
           .Varint(1)
           .EndpointHead("\xc0\xaf")
           .Raw(kEmptyHistogram)
           .Raw(kEmptyHistogram)
           .Varint(0)
           .str(),
       "$.endpoints[0].name", "not valid UTF-8"},
      {"requests over 2^50",
       Bytes().Header().Varint(1).Str("a").Varint(uint64_t{1} << 51).Raw(padding).str(),
       "$.endpoints[0].requests", "outside 0..1125899906842624"},
      {"number over 64 bits",
       Bytes()
           .Header()
           .Varint(1)
           .Str("a")
           .Raw(std::string(10, '\xff'))
           .Raw(padding)
           .str(),
       "$.endpoints[0].requests", "over 64 bits"},
      {"unknown layout", Bytes(one_endpoint_head).Varint(2).Varint(0).str(),
       "$.endpoints[0].latency_us", "2 is outside 0..1"},
      {"layout too large",
       Bytes(one_endpoint_head)
           .Varint(1)
           .Varint(1)
           .Varint(uint64_t{1} << 62)
           .Varint(5)
           .Varint(0)
           .str(),
       "$.endpoints[0].latency_us", "over the limit"},
      {"bucket index past the range",
       Bytes(one_endpoint_head)
           .Varint(0)
           .Varint(2)
           .Varint(23000)
           .Varint(1)
           .Varint(600)
           .Varint(1)
           .str(),
       "$.endpoints[0].latency_us", "bucket index 23601 is outside 0..23551"},
      {"zero count",
       Bytes(one_endpoint_head).Varint(0).Varint(1).Varint(3).Varint(0).str(),
       "$.endpoints[0].latency_us", "0 is outside 1.."},
      {"counts past 2^63",
       Bytes(one_endpoint_head)
           .Varint(0)
           .Varint(2)
           .Varint(0)
           .Varint(INT64_MAX)
           .Varint(0)
           .Varint(1)
           .Raw(kEmptyHistogram)
           .Varint(0)
           .str(),
       "$.endpoints[0].latency_us", "past 2^63-1"},
      {"more buckets than the range",
       Bytes(one_endpoint_head)
           .Varint(0)
           .Varint(23553)
           .Raw(std::string(60000, '\1'))
           .str(),
       "$.endpoints[0].latency_us", "outside 0..23552"},
      {"service_us missing", Bytes(one_endpoint_head).Raw(kEmptyHistogram).str(),
       "$.endpoints[0].service_us", "ends inside a number"},
      {"1025 checks", Bytes().Header().Varint(0).Varint(1025).str(), "$.checks",
       "outside 0..1024"},
      {"check name too long",
       Bytes()
           .Header()
           .Varint(0)
           .Varint(1)
           .Str(std::string(513, 'c'))
           .Varint(0)
           .Varint(0)
           .str(),
       "$.checks[0].name", "513 is outside 0..512"},
      {"trailing bytes", Bytes().Header().Varint(0).Varint(0).Raw("!").str(), "$",
       "1 bytes follow the end"},
  };
  for (const HostileCase& c : kCases) {
    Result<Message> decoded = DecodeMessage(c.bytes);
    ASSERT_FALSE(decoded.ok()) << c.what;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(decoded.status().path(), c.path)
        << c.what << ": " << decoded.status().ToString();
    EXPECT_NE(decoded.status().message().find(c.message), std::string::npos)
        << c.what << ": " << decoded.status().ToString();
    EXPECT_NE(decoded.status().message().find("binary stats, byte"), std::string::npos)
        << c.what << ": " << decoded.status().ToString();
  }
  // The builder itself makes valid messages.
  EXPECT_TRUE(DecodeMessage(Bytes().Header().Varint(0).Varint(0).str()).ok());
  EXPECT_TRUE(DecodeMessage(Bytes(one_endpoint_head)
                                .Varint(0)
                                .Varint(2)
                                .Varint(3)
                                .Varint(1)
                                .Varint(0)
                                .Varint(4)
                                .Raw(kEmptyHistogram)
                                .Varint(0)
                                .str())
                  .ok());
}

TEST(WireStatsTest, EveryTruncationAndBitFlipIsHandled) {
  const std::string good = EncodeBinaryStats(Sample(3, 3, 20));
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeMessage(good.substr(0, n)).ok()) << n;
  }
  // Flipped bits either decode to something that re-encodes stably or are
  // rejected; never a crash.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x41);
    Result<Message> decoded = DecodeMessage(bad);
    if (decoded.ok()) {
      std::string again = EncodeMessage(*decoded);
      Result<Message> twice = DecodeMessage(again);
      ASSERT_TRUE(twice.ok()) << i << ": " << twice.status().ToString();
      EXPECT_EQ(EncodeMessage(*twice), again) << i;
    }
  }
}

// The longest names the bounds allow travel whole (multi-byte UTF-8 up to
// the last byte); one byte more is refused, and counted as refused.
TEST(WireStatsTest, LongestAllowedNamesRoundTripAndLongerAreCountedRefused) {
  StatsMsg m = Sample(3, 1, 10);
  m.endpoints[0].name = std::string(kMaxStatsEndpointNameBytes - 2, 'e') + "\xc3\xa9";
  m.checks[0].name = std::string(kMaxStatsCheckNameBytes - 3, 'c') + "\xe2\x82\xac";
  ASSERT_EQ(m.checks[0].name.size(), kMaxStatsCheckNameBytes);
  const int64_t refused = RefusedBinaryStats();
  Result<StatsMsg> back = DecodeBinaryStats(EncodeBinaryStats(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->endpoints[0].name, m.endpoints[0].name);
  EXPECT_EQ(back->checks[0].name, m.checks[0].name);
  EXPECT_EQ(back->checks[0].passed, m.checks[0].passed);
  EXPECT_EQ(RefusedBinaryStats(), refused);

  m.checks[0].name += "c";
  back = DecodeBinaryStats(EncodeBinaryStats(m));
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().path(), "$.checks[0].name");
  EXPECT_EQ(RefusedBinaryStats(), refused + 1);
  m.checks[0].name.pop_back();
  m.endpoints[0].name += "e";
  back = DecodeBinaryStats(EncodeBinaryStats(m));
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().path(), "$.endpoints[0].name");
  EXPECT_EQ(RefusedBinaryStats(), refused + 2);
}

}  // namespace
}  // namespace loadd
