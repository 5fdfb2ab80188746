#include "common/threshold.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>

#include "common/clock.h"
#include "common/json_reader.h"
#include "common/units.h"

namespace loadd {
namespace {

constexpr size_t kMaxThresholds = 100;
constexpr size_t kMaxKeyBytes = 256;
constexpr int64_t kMaxDelayNs = int64_t{7} * 24 * 3600 * kNsPerSec;
constexpr double kMaxRps = 1e12;

struct MetricSpelling {
  const char* spelling;  // as a key may write it
  ThresholdMetric metric;
  double percentile;  // kPercentile only
};

// Every accepted spelling; k6's p(95), avg and med are aliases.
constexpr MetricSpelling kMetrics[] = {
    {"p50", ThresholdMetric::kPercentile, 50},
    {"p(50)", ThresholdMetric::kPercentile, 50},
    {"med", ThresholdMetric::kPercentile, 50},
    {"p90", ThresholdMetric::kPercentile, 90},
    {"p(90)", ThresholdMetric::kPercentile, 90},
    {"p95", ThresholdMetric::kPercentile, 95},
    {"p(95)", ThresholdMetric::kPercentile, 95},
    {"p99", ThresholdMetric::kPercentile, 99},
    {"p(99)", ThresholdMetric::kPercentile, 99},
    {"p99.9", ThresholdMetric::kPercentile, 99.9},
    {"p(99.9)", ThresholdMetric::kPercentile, 99.9},
    {"min", ThresholdMetric::kMin, 0},
    {"max", ThresholdMetric::kMax, 0},
    {"mean", ThresholdMetric::kMean, 0},
    {"avg", ThresholdMetric::kMean, 0},
    {"error_rate", ThresholdMetric::kErrorRate, 0},
    {"rps", ThresholdMetric::kRps, 0},
    {"pass_rate", ThresholdMetric::kPassRate, 0},
};

const MetricSpelling* FindMetric(std::string_view spelling) {
  for (const MetricSpelling& m : kMetrics) {
    if (spelling == m.spelling) return &m;
  }
  return nullptr;
}

struct ComparisonSpelling {
  const char* symbol;
  Comparison comparison;
};
// Two-character symbols first: "<=" must not read as "<".
constexpr ComparisonSpelling kComparisons[] = {
    {"<=", Comparison::kLessOrEqual},
    {">=", Comparison::kGreaterOrEqual},
    {"<", Comparison::kLess},
    {">", Comparison::kGreater},
};

// $.thresholds["KEY"], the key escaped as in JSON.
std::string KeyPath(std::string_view key) {
  std::string path = "$.thresholds[\"";
  for (char c : key) {
    if (c == '"' || c == '\\') {
      path += '\\';
      path += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      path += buf;
    } else {
      path += c;
    }
  }
  return path + "\"]";
}

// A plain decimal number: digits with at most one '.', nothing else.
std::optional<double> PlainNumber(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return std::nullopt;
  bool dot = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (c < '0' || c > '9') {
      return std::nullopt;
    }
  }
  return std::strtod(std::string(s).c_str(), nullptr);
}

constexpr const char* kKeyForms =
    "a key is http.<metric>, step:<name>.<metric> or checks.pass_rate";

// Splits "step:a.b.p99.9" into scope "step:a.b" and metric "p99.9" at the
// rightmost '.' whose suffix is a metric (a step name may contain dots, and
// p99.9 / p(99.9) contain one too). nullptr when no suffix is a metric.
const MetricSpelling* SplitKey(std::string_view key, size_t* split) {
  for (size_t pos = key.rfind('.'); pos != std::string_view::npos && pos > 0;
       pos = key.rfind('.', pos - 1)) {
    if (const MetricSpelling* m = FindMetric(key.substr(pos + 1))) {
      *split = pos;
      return m;
    }
  }
  return nullptr;
}

}  // namespace

Status ParseThresholdKey(std::string_view key, const std::string& path,
                         ThresholdMeasure* out) {
  if (key.size() > kMaxKeyBytes) {
    return Status::Invalid(path, "key is longer than 256 bytes");
  }
  size_t split = 0;
  const MetricSpelling* metric = SplitKey(key, &split);
  if (metric == nullptr) {
    size_t last = key.rfind('.');
    if (last == std::string_view::npos) {
      return Status::Invalid(
          path, "\"" + std::string(key) + "\" is not a threshold key: " + kKeyForms);
    }
    return Status::Invalid(path, "unknown metric \"" + std::string(key.substr(last + 1)) +
                                     "\" (known: p50 p90 p95 p99 p99.9 min max mean "
                                     "error_rate rps, and pass_rate for checks)");
  }
  std::string_view scope = key.substr(0, split);
  ThresholdMeasure m;
  constexpr std::string_view kStep = "step:";
  if (scope == "http") {
    m.scope = ThresholdScope::kHttp;
  } else if (scope == "checks") {
    m.scope = ThresholdScope::kChecks;
  } else if (scope.starts_with(kStep)) {
    m.scope = ThresholdScope::kStep;
    m.step = std::string(scope.substr(kStep.size()));
    if (m.step.empty()) {
      return Status::Invalid(path, "the step name after \"step:\" is empty");
    }
  } else {
    return Status::Invalid(path,
                           "unknown scope \"" + std::string(scope) + "\": " + kKeyForms);
  }
  bool is_checks = m.scope == ThresholdScope::kChecks;
  bool is_pass_rate = metric->metric == ThresholdMetric::kPassRate;
  if (is_checks && !is_pass_rate) {
    return Status::Invalid(path, "checks has one metric, pass_rate (checks.pass_rate)");
  }
  if (!is_checks && is_pass_rate) {
    return Status::Invalid(path, "pass_rate is for checks only (checks.pass_rate)");
  }
  m.metric = metric->metric;
  m.percentile = metric->percentile;
  *out = std::move(m);
  return Status::Ok();
}

namespace {

// The value after the comparison, in the metric's unit. `quoted` is the
// condition as written, in quotes, for messages.
Status ReadLatencyUs(std::string_view v, const Threshold& t, const std::string& quoted,
                     const std::string& path, double* out) {
  if (!v.empty() && v.back() == '%') {
    return Status::Invalid(path, MetricName(t.measure) + " is a latency: " + quoted +
                                     " needs a duration, not a percentage (e.g. <250ms)");
  }
  if (PlainNumber(v)) {
    return Status::Invalid(path, quoted + " needs a unit (e.g. <250ms)");
  }
  Result<int64_t> ns = ParseDurationNs(v);
  if (!ns.ok()) return Status::Invalid(path, ns.status().message());
  *out = static_cast<double>(*ns) / kNsPerUs;
  return Status::Ok();
}

Status ReadRate(std::string_view v, const Threshold& t, const std::string& quoted,
                const std::string& path, double* out) {
  bool percent = !v.empty() && v.back() == '%';
  std::optional<double> n = PlainNumber(percent ? v.substr(0, v.size() - 1) : v);
  if (!n) {
    return Status::Invalid(path, MetricName(t.measure) + " is a rate: " + quoted +
                                     " needs a percentage (e.g. <1%) or a fraction "
                                     "(e.g. <0.01)");
  }
  if (percent && *n > 100) return Status::Invalid(path, quoted + " is above 100%");
  if (!percent && *n > 1) {
    return Status::Invalid(path, quoted + " is not a fraction between 0 and 1: write " +
                                     ComparisonSymbol(t.comparison) + std::string(v) +
                                     "% or a fraction");
  }
  *out = percent ? *n / 100 : *n;
  return Status::Ok();
}

Status ReadRps(std::string_view v, const std::string& quoted, const std::string& path,
               double* out) {
  if (v.size() > 2 && v.substr(v.size() - 2) == "/s") v.remove_suffix(2);
  std::optional<double> n = PlainNumber(v);
  if (!n || *n > kMaxRps) {
    return Status::Invalid(path, "rps is requests per second: " + quoted +
                                     " needs a plain number (e.g. >500)");
  }
  *out = *n;
  return Status::Ok();
}

Status ReadCondition(const std::string& path, Threshold* t) {
  std::string s;  // the condition without white space: "< 250 ms" reads as "<250ms"
  for (char c : t->condition) {
    if (c != ' ' && c != '\t') s += c;
  }
  const ComparisonSpelling* comparison = nullptr;
  for (const ComparisonSpelling& c : kComparisons) {
    if (s.starts_with(c.symbol)) {
      comparison = &c;
      break;
    }
  }
  if (comparison == nullptr) {
    return Status::Invalid(
        path, "\"" + t->condition +
                  "\" needs a comparison first: <, <=, > or >= (e.g. <250ms)");
  }
  t->comparison = comparison->comparison;
  std::string_view value = std::string_view(s).substr(std::strlen(comparison->symbol));
  if (value.empty()) {
    return Status::Invalid(
        path, "\"" + t->condition + "\" needs a value after " + comparison->symbol);
  }
  const std::string quoted = "\"" + t->condition + "\"";
  switch (UnitOf(t->measure.metric)) {
    case MetricUnit::kMicros:
      return ReadLatencyUs(value, *t, quoted, path, &t->value);
    case MetricUnit::kFraction:
      return ReadRate(value, *t, quoted, path, &t->value);
    case MetricUnit::kPerSecond:
      return ReadRps(value, quoted, path, &t->value);
  }
  return Status::Ok();
}

// {"condition": "<250ms", "abort_on_fail": true, "delay": "10s"}
Status ReadObjectForm(const rapidjson::Value& value, const std::string& path,
                      Threshold* t) {
  ObjectReader r(value, path);
  LOADD_RETURN_IF_ERROR(r.String("condition", &t->condition, /*required=*/true));
  LOADD_RETURN_IF_ERROR(r.Bool("abort_on_fail", &t->abort_on_fail));
  LOADD_RETURN_IF_ERROR(r.DurationNs("delay", &t->delay_ns, 0, kMaxDelayNs));
  if (r.Get("delay") != nullptr && !t->abort_on_fail) {
    return Status::Invalid(r.FieldPath("delay"),
                           "only applies with \"abort_on_fail\": true");
  }
  return r.Finish();
}

Status ReadOne(const std::string& key, const rapidjson::Value& value, Threshold* t) {
  std::string path = KeyPath(key);
  LOADD_RETURN_IF_ERROR(ParseThresholdKey(key, path, &t->measure));
  t->key = key;
  if (value.IsString()) {
    t->condition.assign(value.GetString(), value.GetStringLength());
  } else if (value.IsObject()) {
    LOADD_RETURN_IF_ERROR(ReadObjectForm(value, path, t));
  } else {
    return Status::Invalid(path,
                           std::string("must be a condition such as \"<250ms\" or an "
                                       "object {\"condition\": ...}, got ") +
                               JsonTypeName(value));
  }
  return ReadCondition(path, t);
}

}  // namespace

Status ReadThresholds(const rapidjson::Value* value, std::vector<Threshold>* out) {
  if (value == nullptr) return Status::Ok();
  if (!value->IsObject()) {
    return Status::Invalid("$.thresholds",
                           std::string("must be an object of \"key\": "
                                       "\"condition\" (e.g. {\"http.p95\": "
                                       "\"<250ms\"}), got ") +
                               JsonTypeName(*value));
  }
  if (value->MemberCount() > kMaxThresholds) {
    return Status::Invalid("$.thresholds", "at most 100 thresholds");
  }
  std::set<std::string> seen;
  std::vector<Threshold> thresholds;
  for (auto it = value->MemberBegin(); it != value->MemberEnd(); ++it) {
    std::string key(it->name.GetString(), it->name.GetStringLength());
    if (!seen.insert(key).second) return Status::Invalid(KeyPath(key), "appears twice");
    Threshold t;
    LOADD_RETURN_IF_ERROR(ReadOne(key, it->value, &t));
    thresholds.push_back(std::move(t));
  }
  *out = std::move(thresholds);
  return Status::Ok();
}

void WriteThresholds(const std::vector<Threshold>& thresholds, JsonWriter* w) {
  w->Key("thresholds");
  w->StartObject();
  for (const Threshold& t : thresholds) {
    WriteString(w, t.key);
    if (!t.abort_on_fail) {
      WriteString(w, t.condition);
      continue;
    }
    w->StartObject();
    w->Key("condition");
    WriteString(w, t.condition);
    w->Key("abort_on_fail");
    w->Bool(true);
    w->Key("delay");
    WriteString(w, FormatDurationNs(t.delay_ns));
    w->EndObject();
  }
  w->EndObject();
}

MetricUnit UnitOf(ThresholdMetric metric) {
  switch (metric) {
    case ThresholdMetric::kErrorRate:
    case ThresholdMetric::kPassRate:
      return MetricUnit::kFraction;
    case ThresholdMetric::kRps:
      return MetricUnit::kPerSecond;
    case ThresholdMetric::kPercentile:
    case ThresholdMetric::kMin:
    case ThresholdMetric::kMax:
    case ThresholdMetric::kMean:
      return MetricUnit::kMicros;
  }
  return MetricUnit::kMicros;
}

std::string ScopeName(const ThresholdMeasure& measure) {
  switch (measure.scope) {
    case ThresholdScope::kHttp:
      return "http";
    case ThresholdScope::kStep:
      return "step:" + measure.step;
    case ThresholdScope::kChecks:
      return "checks";
  }
  return "http";
}

std::string MetricName(const ThresholdMeasure& measure) {
  // The first spelling of each metric is the canonical one.
  for (const MetricSpelling& m : kMetrics) {
    if (m.metric == measure.metric && (m.metric != ThresholdMetric::kPercentile ||
                                       m.percentile == measure.percentile)) {
      return m.spelling;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "p%g", measure.percentile);
  return buf;
}

const char* ComparisonSymbol(Comparison comparison) {
  for (const ComparisonSpelling& c : kComparisons) {
    if (c.comparison == comparison) return c.symbol;
  }
  return "<";
}

std::string FormatMetricValue(ThresholdMetric metric, double value) {
  char buf[64];
  switch (UnitOf(metric)) {
    case MetricUnit::kFraction:
      std::snprintf(buf, sizeof buf, "%.2f%%", value * 100);
      return buf;
    case MetricUnit::kPerSecond:
      std::snprintf(buf, sizeof buf, "%.1f/s", value);
      return buf;
    case MetricUnit::kMicros:
      break;
  }
  return FormatMicros(value);
}

bool ThresholdHolds(const Threshold& t, double actual) {
  switch (t.comparison) {
    case Comparison::kLess:
      return actual < t.value;
    case Comparison::kLessOrEqual:
      return actual <= t.value;
    case Comparison::kGreater:
      return actual > t.value;
    case Comparison::kGreaterOrEqual:
      return actual >= t.value;
  }
  return false;
}

}  // namespace loadd
