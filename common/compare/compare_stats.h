// The statistics behind run comparison (docs/compare.md): pure functions on
// per-second latency histograms, no clock, no I/O, deterministic (the
// bootstrap's generator is seeded by the caller).
//
// A run is a Series: one Second per steady-state second, holding the
// second's latency histogram as (value_us, count) buckets - the value being
// the bucket's highest equivalent value, as HdrHistogram::ForEachBucket
// gives it - and the second's request and failure counts.
#ifndef LOADD_COMMON_COMPARE_COMPARE_STATS_H_
#define LOADD_COMMON_COMPARE_COMPARE_STATS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace loadd {

// (value_us, count) in increasing value, counts > 0.
using Buckets = std::vector<std::pair<int64_t, int64_t>>;

struct Second {
  int64_t t = 0;         // seconds since the run started (the first, if several)
  int64_t requests = 0;  // requests that ended in this second
  int64_t failures = 0;  // of which failed
  Buckets latency_us;    // latencies of the second's responses
  // How many seconds it covers (a unit of Coalesce or of a long run read in
  // units); rates divide by it.
  int64_t seconds = 1;
};
using Series = std::vector<Second>;

// Merges bucket lists (sums counts of equal values).
Buckets MergeBuckets(std::span<const Buckets* const> parts);
int64_t TotalCount(const Buckets& buckets);
// HdrHistogram's getValueAtPercentile on buckets: the value of the bucket
// holding the ceil(p/100 * total)-th value (at least the first); 0 if empty.
int64_t PercentileOf(const Buckets& buckets, double p);
double MeanOf(const Buckets& buckets);

// What a series measures, in the order the bootstrap reports them.
struct Measures {
  std::vector<double> percentiles_us;  // one per requested percentile
  double rps = 0;                      // requests per second
  double error_rate = 0;               // failures / requests (0 without requests)
};
Measures Measure(const Series& series, std::span<const double> percentiles);

struct BootstrapOptions {
  int replicates = 1000;
  uint64_t seed = 1;
  // Length of the resampled blocks of consecutive seconds; 0: the rounded
  // cube root of the shorter series' length (at least 1).
  int block_s = 0;
  // A longer series is first coalesced into at most this many units of
  // consecutive seconds (ceil(n / max_units) each), which are resampled
  // instead: the cost stays bounded (about 0.1 s per 100 units on a busy
  // core) however long the runs were.
  size_t max_units = 120;
};

// Two-sided p-values of "base and candidate measure the same", one per
// measure (percentiles in order, then rps, then error_rate), from a circular
// block bootstrap over seconds: each replicate resamples each run's seconds
// independently in blocks of block_s consecutive seconds, merges their
// histograms and measures them. For latencies and rps the statistic is the
// log ratio candidate/base, for the error rate the difference; the p-value
// is (1 + #{|d* - d| >= |d|}) / (replicates + 1), d* being a replicate's
// statistic (the bootstrap distribution centred on the observed d stands
// for the null). nullopt where the statistic is undefined (a zero measure
// under a log). Both series must be non-empty.
struct BootstrapResult {
  std::vector<std::optional<double>> p_values;
  int block_s = 0;  // in units (seconds, unless coalesced)
};
// Consecutive seconds merged into units of `per_unit` seconds (the last
// may be shorter).
Series Coalesce(const Series& series, size_t per_unit);
BootstrapResult BlockBootstrap(const Series& base, const Series& candidate,
                               std::span<const double> percentiles,
                               const BootstrapOptions& options);

// Mann-Whitney U test computed exactly from two bucket lists (every value in
// one bucket is a tie), two-sided, normal approximation with tie and
// continuity correction, as scipy.stats.mannwhitneyu(candidate, base,
// method="asymptotic") computes it. prob_greater is U/(n_c*n_b): the
// probability that a candidate value exceeds a base value, ties counting
// half. Assumes independent values.
struct RankTest {
  double p_value = 1;
  double prob_greater = 0.5;
};
std::optional<RankTest> MannWhitney(const Buckets& base, const Buckets& candidate);

// Two-proportion z-test (pooled), two-sided. nullopt without requests.
std::optional<double> TwoProportionP(int64_t base_failures, int64_t base_requests,
                                     int64_t candidate_failures,
                                     int64_t candidate_requests);

// 2 * (1 - Phi(|z|)).
double TwoSidedNormalP(double z);

}  // namespace loadd

#endif  // LOADD_COMMON_COMPARE_COMPARE_STATS_H_
