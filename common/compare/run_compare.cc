#include "common/compare/run_compare.h"

#include <algorithm>
#include <cmath>

#include "common/clock.h"
#include "common/compare/comparability.h"
#include "common/plan.h"

namespace loadd {

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kNoChange:
      return "no_change";
    case Verdict::kSlower:
      return "slower";
    case Verdict::kFaster:
      return "faster";
    case Verdict::kLower:
      return "lower";
    case Verdict::kHigher:
      return "higher";
  }
  return "no_change";
}

std::pair<int64_t, int64_t> SteadyWindow(const Plan& plan, bool* plateau) {
  LoadProfile profile = plan.Profile();
  const double peak = profile.Peak();
  const int64_t seconds = plan.duration_ns / kNsPerSec;
  auto at_peak = [&](int64_t t_ns) {
    return profile.ValueAt(t_ns) >= peak - 1e-9 * std::max(1.0, peak);
  };
  // A second is steady when its ends and every knot inside it are at the peak
  // (the profile is linear between knots).
  auto steady = [&](int64_t s) {
    int64_t from = s * kNsPerSec, to = (s + 1) * kNsPerSec;
    if (!at_peak(from) || !at_peak(to - 1)) return false;
    for (const LoadProfile::Knot& k : profile.knots()) {
      if (k.t_ns > from && k.t_ns < to && !at_peak(k.t_ns)) return false;
    }
    return true;
  };
  int64_t best_from = 0, best_len = 0;
  for (int64_t s = 0; s < seconds;) {
    if (!steady(s)) {
      ++s;
      continue;
    }
    int64_t e = s;
    while (e < seconds && steady(e)) ++e;
    if (e - s > best_len) best_from = s, best_len = e - s;
    s = e;
  }
  *plateau = best_len > 0;
  if (!*plateau) return {0, seconds};
  return {best_from, best_from + best_len};
}

namespace {

constexpr double kPercentiles[] = {50, 90, 95, 99, 99.9};
constexpr const char* kPercentileKeys[] = {"p50", "p90", "p95", "p99", "p999"};
// A percentile is tested only with this many values above it in each run:
// the bootstrap of a quantile with fewer beyond it resamples a handful of
// order statistics and its p-values come out too small (docs/compare.md).
constexpr double kMinTailValues = 50;

Series InWindow(const Series& series, const RunFacts& facts, bool include_ramp) {
  if (include_ramp) return series;
  Series out;
  for (const Second& s : series) {
    if (s.t >= facts.steady_from_s && s.t < facts.steady_to_s) out.push_back(s);
  }
  return out;
}

size_t SecondsIn(const Series& series) {
  int64_t seconds = 0;
  for (const Second& s : series) seconds += s.seconds;
  return static_cast<size_t>(seconds);
}

std::optional<double> ChangePct(double base, double candidate) {
  if (base == 0) return candidate == 0 ? std::optional<double>(0) : std::nullopt;
  return (candidate / base - 1) * 100;
}

// The verdict of a metric from its change and p-value.
Verdict Decide(const MetricResult& m, const CompareOptions& o) {
  if (!m.p_value || *m.p_value >= o.alpha) return Verdict::kNoChange;
  // A change from zero is infinitely large in relative terms.
  double pct = m.change_pct.value_or(m.candidate > m.base ? INFINITY : -INFINITY);
  if (std::abs(pct) < o.min_change_pct) return Verdict::kNoChange;
  if (m.key == "error_rate" && std::abs(m.candidate - m.base) < o.min_error_rate_change) {
    return Verdict::kNoChange;
  }
  if (m.latency) return pct > 0 ? Verdict::kSlower : Verdict::kFaster;
  return pct > 0 ? Verdict::kHigher : Verdict::kLower;
}

MetricResult Metric(const char* key, bool latency, double base, double candidate,
                    std::optional<double> p_value, const char* worse, std::string note,
                    const CompareOptions& o) {
  MetricResult m;
  m.key = key;
  m.latency = latency;
  m.base = base;
  m.candidate = candidate;
  m.change_pct = ChangePct(base, candidate);
  m.p_value = p_value;
  m.worse = worse;
  m.note = std::move(note);
  m.verdict = Decide(m, o);
  return m;
}

Buckets SecondMaxima(const Series& series) {
  std::vector<const Buckets*> none;
  Buckets maxima;
  for (const Second& s : series) {
    if (!s.latency_us.empty()) maxima.emplace_back(s.latency_us.back().first, 1);
  }
  std::sort(maxima.begin(), maxima.end());
  // Merge equal values into one bucket.
  Buckets out;
  for (const auto& [value, count] : maxima) {
    if (!out.empty() && out.back().first == value) {
      out.back().second += count;
    } else {
      out.emplace_back(value, count);
    }
  }
  return out;
}

Buckets AllOf(const Series& series) {
  std::vector<const Buckets*> parts;
  for (const Second& s : series) parts.push_back(&s.latency_us);
  return MergeBuckets(parts);
}

// One endpoint (or the aggregate). error_p: the error rate's p-value when
// the series carry no failures (endpoints: from the whole-run totals).
struct GroupInput {
  std::string name;
  const Series* base;
  const Series* candidate;
  std::optional<std::pair<EndpointCounts, EndpointCounts>> totals;  // endpoints
};

EndpointResult CompareGroup(const GroupInput& in, const CompareOptions& o, bool tests,
                            int* block_s, std::vector<CompareWarning>* warnings) {
  EndpointResult out;
  out.name = in.name;
  const Series &b = *in.base, &c = *in.candidate;
  Measures mb = Measure(b, kPercentiles), mc = Measure(c, kPercentiles);
  BootstrapResult boot;
  tests = tests && !b.empty() && !c.empty();
  if (tests) {
    boot = BlockBootstrap(b, c, kPercentiles, o.bootstrap);
    *block_s = boot.block_s;
  }
  auto p_at = [&](size_t m) { return tests ? boot.p_values[m] : std::nullopt; };
  const char* untested = tests ? "" : "not tested: too few steady seconds";
  const size_t n = std::size(kPercentiles);
  out.metrics.push_back(Metric("rps", false, mb.rps, mc.rps, p_at(n), "lower",
                               tests ? "block bootstrap over seconds" : untested, o));
  if (in.totals) {
    const auto& [tb, tc] = *in.totals;
    double rb = tb.requests ? static_cast<double>(tb.failures) / tb.requests : 0;
    double rc = tc.requests ? static_cast<double>(tc.failures) / tc.requests : 0;
    out.metrics.push_back(Metric(
        "error_rate", false, rb, rc,
        TwoProportionP(tb.failures, tb.requests, tc.failures, tc.requests), "higher",
        "whole run; two-proportion z-test (assumes independent requests)", o));
  } else {
    out.metrics.push_back(Metric("error_rate", false, mb.error_rate, mc.error_rate,
                                 p_at(n + 1), "higher",
                                 tests ? "block bootstrap over seconds" : untested, o));
  }
  const double total_b = static_cast<double>(TotalCount(AllOf(b)));
  const double total_c = static_cast<double>(TotalCount(AllOf(c)));
  for (size_t i = 0; i < n; ++i) {
    std::optional<double> p = p_at(i);
    std::string note = tests ? "block bootstrap over seconds" : untested;
    double tail = (100 - kPercentiles[i]) / 100;
    if (tests && std::min(total_b, total_c) * tail < kMinTailValues) {
      p = std::nullopt;
      note = "not tested: too few values above it";
      warnings->push_back(
          {"samples", in.name + " " + kPercentileKeys[i] + " is not tested: it needs " +
                          std::to_string(static_cast<int64_t>(kMinTailValues / tail)) +
                          " responses in each run, got " +
                          std::to_string(static_cast<int64_t>(total_b)) + " and " +
                          std::to_string(static_cast<int64_t>(total_c))});
    }
    out.metrics.push_back(Metric(kPercentileKeys[i], true, mb.percentiles_us[i],
                                 mc.percentiles_us[i], p, "higher", note, o));
  }
  Buckets maxima_b = SecondMaxima(b), maxima_c = SecondMaxima(c);
  std::optional<double> max_p;
  if (tests) {
    if (auto rank = MannWhitney(maxima_b, maxima_c)) max_p = rank->p_value;
  }
  double max_b = maxima_b.empty() ? 0 : static_cast<double>(maxima_b.back().first);
  double max_c = maxima_c.empty() ? 0 : static_cast<double>(maxima_c.back().first);
  out.metrics.push_back(Metric("max", true, max_b, max_c, max_p, "higher",
                               tests ? "rank test on the per-second maxima" : untested,
                               o));
  Buckets all_b = AllOf(b), all_c = AllOf(c);
  std::optional<double> dist_p;
  if (tests) {
    if (auto rank = MannWhitney(all_b, all_c)) dist_p = rank->p_value;
  }
  out.metrics.push_back(
      Metric("mean", true, MeanOf(all_b), MeanOf(all_c), dist_p, "higher",
             tests ? "Mann-Whitney rank test on every response (assumes independent "
                     "responses)"
                   : untested,
             o));
  return out;
}

}  // namespace

CompareResult CompareRuns(const RunSamples& base, const RunSamples& candidate,
                          const CompareOptions& options) {
  CompareResult out;
  out.base_id = base.facts.id;
  out.candidate_id = candidate.facts.id;
  out.options = options;
  out.warnings = ComparabilityWarnings(base, candidate, options);
  Series agg_b = InWindow(base.aggregate, base.facts, options.include_ramp);
  Series agg_c = InWindow(candidate.aggregate, candidate.facts, options.include_ramp);
  out.base_window = {base.facts.steady_from_s, base.facts.steady_to_s};
  out.candidate_window = {candidate.facts.steady_from_s, candidate.facts.steady_to_s};
  if (options.include_ramp) {
    out.base_window = {0, static_cast<int64_t>(base.aggregate.size())};
    out.candidate_window = {0, static_cast<int64_t>(candidate.aggregate.size())};
  }
  out.base_seconds = SecondsIn(agg_b);
  out.candidate_seconds = SecondsIn(agg_c);
  const size_t min_seconds = static_cast<size_t>(std::max(options.min_seconds, 1));
  const bool tests =
      out.base_seconds >= min_seconds && out.candidate_seconds >= min_seconds;
  if (!tests) {
    out.warnings.push_back(
        {"duration", "too few steady seconds to test anything (base " +
                         std::to_string(out.base_seconds) + ", candidate " +
                         std::to_string(out.candidate_seconds) + ", at least " +
                         std::to_string(min_seconds) +
                         " each): every verdict is no_change and untested"});
  }
  out.aggregated = CompareGroup({"Aggregated", &agg_b, &agg_c, std::nullopt}, options,
                                tests, &out.block_s, &out.warnings);
  for (const auto& [name, series_b] : base.endpoints) {
    auto it = candidate.endpoints.find(name);
    if (it == candidate.endpoints.end()) {
      out.warnings.push_back(
          {"endpoint",
           "endpoint \"" + name + "\" is only in the base run " + base.facts.id});
      continue;
    }
    Series eb = InWindow(series_b, base.facts, options.include_ramp);
    Series ec = InWindow(it->second, candidate.facts, options.include_ramp);
    auto tb = base.totals.find(name), tc = candidate.totals.find(name);
    std::pair<EndpointCounts, EndpointCounts> totals{
        tb == base.totals.end() ? EndpointCounts{} : tb->second,
        tc == candidate.totals.end() ? EndpointCounts{} : tc->second};
    int block_s = 0;
    out.endpoints.push_back(
        CompareGroup({name, &eb, &ec, totals}, options, tests, &block_s, &out.warnings));
  }
  for (const auto& [name, series] : candidate.endpoints) {
    if (!base.endpoints.contains(name)) {
      out.warnings.push_back({"endpoint", "endpoint \"" + name +
                                              "\" is only in the candidate run " +
                                              candidate.facts.id});
    }
  }
  return out;
}

namespace {

void WriteNumber(JsonWriter* w, const char* key, std::optional<double> value) {
  w->Key(key);
  if (value && std::isfinite(*value)) {
    WriteNumber15(w, *value);
  } else {
    w->Null();
  }
}

void WriteMetric(const MetricResult& m, JsonWriter* w) {
  w->Key(m.key.c_str());
  w->StartObject();
  WriteNumber(w, m.latency ? "base_us" : "base", m.base);
  WriteNumber(w, m.latency ? "candidate_us" : "candidate", m.candidate);
  WriteNumber(w, m.latency ? "change_us" : "change", m.candidate - m.base);
  WriteNumber(w, "change_pct", m.change_pct);
  w->Key("verdict");
  w->String(VerdictName(m.verdict));
  WriteNumber(w, "p_value", m.p_value);
  w->Key("worse");
  w->String(m.worse);
  w->Key("test");
  WriteString(w, m.note);
  w->EndObject();
}

void WriteGroup(const EndpointResult& group, JsonWriter* w) {
  w->StartObject();
  w->Key("name");
  WriteString(w, group.name);
  for (const MetricResult& m : group.metrics) WriteMetric(m, w);
  w->EndObject();
}

}  // namespace

void WriteCompare(const CompareResult& result, JsonWriter* w) {
  w->StartObject();
  WriteField(w, "base", result.base_id);
  WriteField(w, "candidate", result.candidate_id);
  w->Key("options");
  w->StartObject();
  WriteNumber(w, "min_change_pct", result.options.min_change_pct);
  WriteNumber(w, "alpha", result.options.alpha);
  w->Key("include_ramp");
  w->Bool(result.options.include_ramp);
  WriteField(w, "replicates", int64_t{result.options.bootstrap.replicates});
  WriteField(w, "seed", static_cast<int64_t>(result.options.bootstrap.seed));
  WriteField(w, "block_s", int64_t{result.block_s});
  w->EndObject();
  w->Key("seconds");
  w->StartObject();
  auto window = [&](const char* key, std::pair<int64_t, int64_t> from_to, size_t used) {
    w->Key(key);
    w->StartObject();
    WriteField(w, "from_s", from_to.first);
    WriteField(w, "to_s", from_to.second);
    WriteField(w, "used", static_cast<int64_t>(used));
    w->EndObject();
  };
  window("base", result.base_window, result.base_seconds);
  window("candidate", result.candidate_window, result.candidate_seconds);
  w->EndObject();
  w->Key("aggregated");
  WriteGroup(result.aggregated, w);
  w->Key("endpoints");
  w->StartArray();
  for (const EndpointResult& e : result.endpoints) WriteGroup(e, w);
  w->EndArray();
  w->Key("warnings");
  w->StartArray();
  for (const CompareWarning& warning : result.warnings) {
    w->StartObject();
    WriteField(w, "kind", warning.kind);
    WriteField(w, "message", warning.message);
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
}

}  // namespace loadd
