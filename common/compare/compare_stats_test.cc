#include "common/compare/compare_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/hdr_histogram.h"

namespace loadd {
namespace {

// `seconds` seconds of `per_second` latencies around center_us (uniform
// +-10%, plus a per-second drift of +-2%), bucketed as the fleet does.
Series Synthetic(int seconds, int per_second, double center_us, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> noise(-0.1, 0.1), drift(-0.02, 0.02);
  Series out;
  for (int t = 0; t < seconds; ++t) {
    HdrHistogram h = HdrHistogram::ForLatencyMicros();
    double second_center = center_us * (1 + drift(rng));
    for (int i = 0; i < per_second; ++i) {
      h.Record(static_cast<int64_t>(second_center * (1 + noise(rng))));
    }
    Second s;
    s.t = t;
    s.requests = per_second;
    h.ForEachBucket(
        [&](int64_t value, int64_t count) { s.latency_us.emplace_back(value, count); });
    out.push_back(std::move(s));
  }
  return out;
}

TEST(PercentileOfTest, FollowsHdrHistogramsRankRule) {
  Buckets b = {{10, 1}, {20, 1}, {30, 1}, {40, 1}};
  EXPECT_EQ(PercentileOf(b, 50), 20);    // ceil(0.5 * 4) = 2nd value
  EXPECT_EQ(PercentileOf(b, 50.1), 30);  // ceil(2.004) = 3rd
  EXPECT_EQ(PercentileOf(b, 100), 40);
  EXPECT_EQ(PercentileOf(b, 0), 10);
  EXPECT_EQ(PercentileOf({}, 50), 0);
}

TEST(PercentileOfTest, AgreesWithHdrHistogramOnTheSameValues) {
  HdrHistogram h = HdrHistogram::ForLatencyMicros();
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) h.Record(1000 + static_cast<int64_t>(rng() % 90000));
  Buckets b;
  h.ForEachBucket([&](int64_t value, int64_t count) { b.emplace_back(value, count); });
  for (double p : {50.0, 90.0, 95.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(PercentileOf(b, p), h.ValueAtPercentile(p)) << p;
  }
}

TEST(MergeBucketsTest, SumsEqualValues) {
  Buckets a = {{1, 2}, {5, 1}}, b = {{1, 3}, {7, 4}};
  const Buckets* parts[] = {&a, &b};
  EXPECT_EQ(MergeBuckets(parts), (Buckets{{1, 5}, {5, 1}, {7, 4}}));
  EXPECT_DOUBLE_EQ(MeanOf({{10, 1}, {30, 3}}), 25.0);
}

// Known answers (scipy.stats.mannwhitneyu(candidate, base) gives the same).
TEST(MannWhitneyTest, SeparatedSamples) {
  auto r = MannWhitney({{1, 1}, {2, 1}, {3, 1}}, {{4, 1}, {5, 1}, {6, 1}});
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->prob_greater, 1.0);
  // U = 9, mean 4.5, variance 5.25: z = 4 / sqrt(5.25).
  EXPECT_NEAR(r->p_value, std::erfc(4 / std::sqrt(5.25) / std::sqrt(2.0)), 1e-12);
  EXPECT_NEAR(r->p_value, 0.080856, 1e-5);
}

TEST(MannWhitneyTest, TiesCountHalf) {
  auto r = MannWhitney({{5, 10}}, {{5, 10}});
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->prob_greater, 0.5);
  EXPECT_DOUBLE_EQ(r->p_value, 1.0);
  // base {1, 2, 2}, candidate {2, 3}: the values 1 | 2 2 2 | 3 have ranks
  // 1 | 3 3 3 | 5; the candidate's sum is 8, U = 8 - 3 = 5 of 6 pairs.
  auto t = MannWhitney({{1, 1}, {2, 2}}, {{2, 1}, {3, 1}});
  ASSERT_TRUE(t);
  EXPECT_NEAR(t->prob_greater, 5.0 / 6.0, 1e-12);
  EXPECT_FALSE(MannWhitney({}, {{1, 1}}));
}

TEST(TwoProportionTest, KnownAnswer) {
  // 10/100 vs 20/100: pooled 0.15, se sqrt(0.15 * 0.85 * 0.02), z = 1.98.
  double se = std::sqrt(0.15 * 0.85 * 0.02);
  EXPECT_NEAR(*TwoProportionP(10, 100, 20, 100), std::erfc(0.1 / se / std::sqrt(2.0)),
              1e-12);
  EXPECT_NEAR(*TwoProportionP(10, 100, 20, 100), 0.0477, 1e-4);
  EXPECT_DOUBLE_EQ(*TwoProportionP(0, 100, 0, 50), 1.0);
  EXPECT_FALSE(TwoProportionP(0, 0, 1, 1));
}

constexpr double kPercentiles[] = {50, 95};

TEST(BlockBootstrapTest, IdenticalRunsAreNotSignificant) {
  Series a = Synthetic(20, 200, 20000, 1);
  BootstrapResult r = BlockBootstrap(a, a, kPercentiles, {});
  ASSERT_EQ(r.p_values.size(), 4u);  // p50, p95, rps, error rate
  for (const auto& p : r.p_values) {
    ASSERT_TRUE(p);
    EXPECT_DOUBLE_EQ(*p, 1.0);  // d = 0: every replicate is as extreme
  }
  EXPECT_EQ(r.block_s, 3);  // round(cbrt(20))
}

TEST(BlockBootstrapTest, TenPercentSlowerIsSignificant) {
  Series a = Synthetic(20, 200, 20000, 1), b = Synthetic(20, 200, 22000, 2);
  BootstrapOptions o;
  BootstrapResult r = BlockBootstrap(a, b, kPercentiles, o);
  EXPECT_LT(*r.p_values[0], 0.01);
  EXPECT_LT(*r.p_values[1], 0.01);
  EXPECT_NEAR(*r.p_values[0], 1.0 / (o.replicates + 1), 1e-12);
  EXPECT_DOUBLE_EQ(*r.p_values[2], 1.0);  // same rps
}

TEST(BlockBootstrapTest, SameSeedSameAnswerOtherSeedClose) {
  Series a = Synthetic(15, 100, 20000, 3), b = Synthetic(15, 100, 20200, 4);
  BootstrapOptions o;
  auto r1 = BlockBootstrap(a, b, kPercentiles, o),
       r2 = BlockBootstrap(a, b, kPercentiles, o);
  EXPECT_EQ(r1.p_values, r2.p_values);
  o.seed = 99;
  auto r3 = BlockBootstrap(a, b, kPercentiles, o);
  // Monte Carlo error of a p-value from 1000 replicates is below 0.02.
  EXPECT_NEAR(*r1.p_values[0], *r3.p_values[0], 0.06);
}

TEST(BlockBootstrapTest, ErrorRateUsesTheDifference) {
  Series a = Synthetic(10, 100, 20000, 5), b = a;
  for (Second& s : b) s.failures = 30;  // 30% vs 0%
  BootstrapResult r = BlockBootstrap(a, b, kPercentiles, {});
  EXPECT_LT(*r.p_values[3], 0.01);
}

TEST(BlockBootstrapTest, ZeroLatencyHasNoLogRatio) {
  Series a(5), b(5);
  for (int i = 0; i < 5; ++i) a[i].t = b[i].t = i;
  BootstrapResult r = BlockBootstrap(a, b, kPercentiles, {});
  EXPECT_FALSE(r.p_values[0]);
  EXPECT_FALSE(r.p_values[2]);  // rps 0
}

TEST(BlockBootstrapTest, LongRunsAreCoalescedIntoUnits) {
  Series a = Synthetic(300, 20, 20000, 6), b = Synthetic(300, 20, 22000, 7);
  BootstrapOptions o;
  o.max_units = 30;  // units of 10 s
  BootstrapResult r = BlockBootstrap(a, b, kPercentiles, o);
  EXPECT_EQ(r.block_s, 3);  // round(cbrt(30))
  EXPECT_LT(*r.p_values[0], 0.01);
  Series units = Coalesce(a, 7);
  ASSERT_EQ(units.size(), 43u);  // 42 of 7 s and one of 6 s
  EXPECT_EQ(units[42].requests, 6 * 20);
  EXPECT_EQ(TotalCount(units[0].latency_us), 7 * 20);
}

TEST(MeasureTest, MergesSeconds) {
  Series s(2);
  s[0] = {0, 10, 1, {{100, 10}}};
  s[1] = {1, 30, 2, {{200, 30}}};
  double p[] = {50};
  Measures m = Measure(s, p);
  EXPECT_DOUBLE_EQ(m.percentiles_us[0], 200);
  EXPECT_DOUBLE_EQ(m.rps, 20);
  EXPECT_DOUBLE_EQ(m.error_rate, 3.0 / 40);
}

}  // namespace
}  // namespace loadd
