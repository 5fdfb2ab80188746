#include "common/compare/compare_stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace loadd {

Buckets MergeBuckets(std::span<const Buckets* const> parts) {
  std::map<int64_t, int64_t> merged;
  for (const Buckets* part : parts) {
    for (const auto& [value, count] : *part) merged[value] += count;
  }
  return Buckets(merged.begin(), merged.end());
}

int64_t TotalCount(const Buckets& buckets) {
  int64_t total = 0;
  for (const auto& bucket : buckets) total += bucket.second;
  return total;
}

namespace {

// The rank (1-based) of the value at percentile p among total values.
int64_t RankAt(double p, int64_t total) {
  p = std::clamp(std::isnan(p) ? 0.0 : p, 0.0, 100.0);
  auto rank = static_cast<int64_t>(std::ceil(p / 100.0 * static_cast<double>(total)));
  return std::max<int64_t>(rank, 1);
}

}  // namespace

int64_t PercentileOf(const Buckets& buckets, double p) {
  int64_t rank = RankAt(p, TotalCount(buckets));
  int64_t seen = 0;
  for (const auto& [value, count] : buckets) {
    seen += count;
    if (seen >= rank) return value;
  }
  return 0;
}

double MeanOf(const Buckets& buckets) {
  double sum = 0;
  int64_t total = 0;
  for (const auto& [value, count] : buckets) {
    sum += static_cast<double>(value) * static_cast<double>(count);
    total += count;
  }
  return total == 0 ? 0 : sum / static_cast<double>(total);
}

namespace {

// A series over a shared, dense numbering of the bucket values of both
// runs, so a replicate merges into one flat array.
struct Compact {
  std::vector<std::vector<std::pair<int32_t, int64_t>>> seconds;
  std::vector<int64_t> requests, failures, lengths_s;
};

Compact ToCompact(const Series& series, const std::vector<int64_t>& values) {
  Compact out;
  for (const Second& s : series) {
    std::vector<std::pair<int32_t, int64_t>> row;
    row.reserve(s.latency_us.size());
    for (const auto& [value, count] : s.latency_us) {
      auto it = std::lower_bound(values.begin(), values.end(), value);
      row.emplace_back(static_cast<int32_t>(it - values.begin()), count);
    }
    out.seconds.push_back(std::move(row));
    out.requests.push_back(s.requests);
    out.failures.push_back(s.failures);
    out.lengths_s.push_back(s.seconds);
  }
  return out;
}

// Measures of the seconds `picked` of run (indices, repeats allowed) into
// out: percentiles, rps, error rate. counts is scratch of values.size().
void MeasurePicked(const Compact& run, const std::vector<size_t>& picked,
                   const std::vector<int64_t>& values,
                   std::span<const double> percentiles, std::vector<int64_t>* counts,
                   std::vector<double>* out) {
  std::fill(counts->begin(), counts->end(), 0);
  int64_t total = 0, requests = 0, failures = 0, seconds = 0;
  for (size_t i : picked) {
    seconds += run.lengths_s[i];
    for (const auto& [index, count] : run.seconds[i]) {
      (*counts)[index] += count;
      total += count;
    }
    requests += run.requests[i];
    failures += run.failures[i];
  }
  out->clear();
  // Percentiles come in any order; each is one scan (there are few).
  for (double p : percentiles) {
    int64_t rank = RankAt(p, total), seen = 0;
    double value = 0;
    for (size_t k = 0; k < counts->size() && total > 0; ++k) {
      seen += (*counts)[k];
      if (seen >= rank) {
        value = static_cast<double>(values[k]);
        break;
      }
    }
    out->push_back(value);
  }
  out->push_back(
      seconds == 0 ? 0 : static_cast<double>(requests) / static_cast<double>(seconds));
  out->push_back(
      requests == 0 ? 0 : static_cast<double>(failures) / static_cast<double>(requests));
}

// Circular blocks of block_s seconds from n, until n are picked.
void PickBlocks(size_t n, size_t block_s, std::mt19937_64* rng,
                std::vector<size_t>* picked) {
  picked->clear();
  while (picked->size() < n) {
    size_t start = (*rng)() % n;
    for (size_t j = 0; j < block_s && picked->size() < n; ++j) {
      picked->push_back((start + j) % n);
    }
  }
}

// The statistic of measure m: log ratio for latencies and rps, the
// difference for the error rate (the last measure).
std::optional<double> Statistic(size_t m, size_t measures, double base,
                                double candidate) {
  if (m + 1 == measures) return candidate - base;
  if (base <= 0 || candidate <= 0) return std::nullopt;
  return std::log(candidate / base);
}

}  // namespace

Measures Measure(const Series& series, std::span<const double> percentiles) {
  std::vector<const Buckets*> parts;
  int64_t requests = 0, failures = 0, seconds = 0;
  for (const Second& s : series) {
    parts.push_back(&s.latency_us);
    requests += s.requests;
    failures += s.failures;
    seconds += s.seconds;
  }
  Buckets all = MergeBuckets(parts);
  Measures out;
  for (double p : percentiles) {
    out.percentiles_us.push_back(static_cast<double>(PercentileOf(all, p)));
  }
  if (seconds > 0) out.rps = static_cast<double>(requests) / static_cast<double>(seconds);
  if (requests > 0) {
    out.error_rate = static_cast<double>(failures) / static_cast<double>(requests);
  }
  return out;
}

Series Coalesce(const Series& series, size_t per_unit) {
  if (per_unit <= 1) return series;
  Series out;
  for (size_t i = 0; i < series.size(); i += per_unit) {
    Second unit;
    unit.t = series[i].t;
    unit.seconds = 0;
    std::vector<const Buckets*> parts;
    for (size_t j = i; j < std::min(series.size(), i + per_unit); ++j) {
      unit.requests += series[j].requests;
      unit.failures += series[j].failures;
      unit.seconds += series[j].seconds;
      parts.push_back(&series[j].latency_us);
    }
    unit.latency_us = MergeBuckets(parts);
    out.push_back(std::move(unit));
  }
  return out;
}

BootstrapResult BlockBootstrap(const Series& base_seconds,
                               const Series& candidate_seconds,
                               std::span<const double> percentiles,
                               const BootstrapOptions& options) {
  size_t longest = std::max(base_seconds.size(), candidate_seconds.size());
  size_t max_units = std::max<size_t>(options.max_units, 1);
  size_t per_unit = (longest + max_units - 1) / max_units;
  // Both runs alike, so that rps (per unit) compares like with like.
  Series base = Coalesce(base_seconds, per_unit);
  Series candidate = Coalesce(candidate_seconds, per_unit);
  std::vector<int64_t> values;
  for (const Series* series : {&base, &candidate}) {
    for (const Second& s : *series) {
      for (const auto& bucket : s.latency_us) values.push_back(bucket.first);
    }
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  Compact b = ToCompact(base, values), c = ToCompact(candidate, values);

  BootstrapResult result;
  size_t shorter = std::min(base.size(), candidate.size());
  result.block_s = options.block_s > 0
                       ? options.block_s
                       : std::max(1, static_cast<int>(std::lround(
                                         std::cbrt(static_cast<double>(shorter)))));
  const size_t measures = percentiles.size() + 2;

  std::vector<int64_t> counts(values.size());
  std::vector<size_t> all_b(base.size()), all_c(candidate.size());
  for (size_t i = 0; i < all_b.size(); ++i) all_b[i] = i;
  for (size_t i = 0; i < all_c.size(); ++i) all_c[i] = i;
  std::vector<double> mb, mc;
  MeasurePicked(b, all_b, values, percentiles, &counts, &mb);
  MeasurePicked(c, all_c, values, percentiles, &counts, &mc);
  std::vector<std::optional<double>> observed(measures);
  for (size_t m = 0; m < measures; ++m)
    observed[m] = Statistic(m, measures, mb[m], mc[m]);

  std::vector<int64_t> extreme(measures, 0), valid(measures, 0);
  std::mt19937_64 rng(options.seed);
  std::vector<size_t> picked;
  for (int r = 0; r < options.replicates; ++r) {
    PickBlocks(base.size(), result.block_s, &rng, &picked);
    MeasurePicked(b, picked, values, percentiles, &counts, &mb);
    PickBlocks(candidate.size(), result.block_s, &rng, &picked);
    MeasurePicked(c, picked, values, percentiles, &counts, &mc);
    for (size_t m = 0; m < measures; ++m) {
      if (!observed[m]) continue;
      std::optional<double> d = Statistic(m, measures, mb[m], mc[m]);
      if (!d) continue;
      ++valid[m];
      // A tiny tolerance so that equal statistics count as extreme.
      if (std::abs(*d - *observed[m]) >= std::abs(*observed[m]) - 1e-12) ++extreme[m];
    }
  }
  for (size_t m = 0; m < measures; ++m) {
    if (!observed[m] || valid[m] == 0) {
      result.p_values.push_back(std::nullopt);
      continue;
    }
    result.p_values.push_back(static_cast<double>(1 + extreme[m]) /
                              static_cast<double>(1 + valid[m]));
  }
  return result;
}

double TwoSidedNormalP(double z) { return std::erfc(std::abs(z) / std::sqrt(2.0)); }

std::optional<RankTest> MannWhitney(const Buckets& base, const Buckets& candidate) {
  const double nb = static_cast<double>(TotalCount(base));
  const double nc = static_cast<double>(TotalCount(candidate));
  if (nb == 0 || nc == 0) return std::nullopt;
  // Walk both in value order; each distinct value is one tie group.
  double rank_sum_c = 0, below = 0, ties = 0;
  size_t i = 0, j = 0;
  while (i < base.size() || j < candidate.size()) {
    int64_t value = std::min(i < base.size() ? base[i].first : INT64_MAX,
                             j < candidate.size() ? candidate[j].first : INT64_MAX);
    double a = 0, c = 0;
    if (i < base.size() && base[i].first == value)
      a = static_cast<double>(base[i++].second);
    if (j < candidate.size() && candidate[j].first == value) {
      c = static_cast<double>(candidate[j++].second);
    }
    double t = a + c;
    double mid_rank = below + (t + 1) / 2;
    rank_sum_c += c * mid_rank;
    ties += t * t * t - t;
    below += t;
  }
  const double n = nb + nc;
  const double u = rank_sum_c - nc * (nc + 1) / 2;
  const double mean = nb * nc / 2;
  const double variance = nb * nc / 12 * ((n + 1) - ties / (n * (n - 1)));
  RankTest out;
  out.prob_greater = u / (nb * nc);
  if (variance <= 0) return out;  // every value tied: no evidence
  // Continuity correction towards the mean, as scipy does.
  double z = (std::abs(u - mean) - 0.5) / std::sqrt(variance);
  out.p_value = std::min(1.0, TwoSidedNormalP(std::max(z, 0.0)));
  return out;
}

std::optional<double> TwoProportionP(int64_t base_failures, int64_t base_requests,
                                     int64_t candidate_failures,
                                     int64_t candidate_requests) {
  if (base_requests <= 0 || candidate_requests <= 0) return std::nullopt;
  const double nb = static_cast<double>(base_requests);
  const double nc = static_cast<double>(candidate_requests);
  const double pb = static_cast<double>(base_failures) / nb;
  const double pc = static_cast<double>(candidate_failures) / nc;
  const double pooled =
      static_cast<double>(base_failures + candidate_failures) / (nb + nc);
  const double se = std::sqrt(pooled * (1 - pooled) * (1 / nb + 1 / nc));
  if (se == 0) return 1.0;  // no failures (or only failures) in both
  return TwoSidedNormalP((pc - pb) / se);
}

}  // namespace loadd
