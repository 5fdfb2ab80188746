#include "common/threshold.h"

#include <cstdio>
#include <cstdlib>
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

// What a metric measures decides the unit of its condition's value.
enum class Kind { kLatency, kRate, kRps };

struct MetricSpelling {
  const char* spelling;  // as a key may write it
  const char* metric;    // Threshold::metric
  Kind kind;
};

// Every accepted spelling; k6's p(95), avg and med are aliases.
constexpr MetricSpelling kMetrics[] = {
    {"p50", "p50", Kind::kLatency},       {"p(50)", "p50", Kind::kLatency},
    {"med", "p50", Kind::kLatency},       {"p90", "p90", Kind::kLatency},
    {"p(90)", "p90", Kind::kLatency},     {"p95", "p95", Kind::kLatency},
    {"p(95)", "p95", Kind::kLatency},     {"p99", "p99", Kind::kLatency},
    {"p(99)", "p99", Kind::kLatency},     {"p99.9", "p99.9", Kind::kLatency},
    {"p(99.9)", "p99.9", Kind::kLatency}, {"min", "min", Kind::kLatency},
    {"max", "max", Kind::kLatency},       {"mean", "mean", Kind::kLatency},
    {"avg", "mean", Kind::kLatency},      {"error_rate", "error_rate", Kind::kRate},
    {"rps", "rps", Kind::kRps},           {"pass_rate", "pass_rate", Kind::kRate},
};

const MetricSpelling* FindMetric(std::string_view spelling) {
  for (const MetricSpelling& m : kMetrics) {
    if (spelling == m.spelling) return &m;
  }
  return nullptr;
}

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
const MetricSpelling* SplitKey(const std::string& key, size_t* split) {
  for (size_t pos = key.rfind('.'); pos != std::string::npos && pos > 0;
       pos = key.rfind('.', pos - 1)) {
    if (const MetricSpelling* m = FindMetric(std::string_view(key).substr(pos + 1))) {
      *split = pos;
      return m;
    }
  }
  return nullptr;
}

Status ReadKey(const std::string& key, const std::string& path, Threshold* t,
               Kind* kind) {
  if (key.size() > kMaxKeyBytes) {
    return Status::Invalid(path, "key is longer than 256 bytes");
  }
  size_t split = 0;
  const MetricSpelling* metric = SplitKey(key, &split);
  if (metric == nullptr) {
    size_t last = key.rfind('.');
    if (last == std::string::npos) {
      return Status::Invalid(path,
                             "\"" + key + "\" is not a threshold key: " + kKeyForms);
    }
    return Status::Invalid(path, "unknown metric \"" + key.substr(last + 1) +
                                     "\" (known: p50 p90 p95 p99 p99.9 min max mean "
                                     "error_rate rps, and pass_rate for checks)");
  }
  std::string scope = key.substr(0, split);
  bool is_checks = scope == "checks";
  if (scope != "http" && !is_checks && scope.rfind("step:", 0) != 0) {
    return Status::Invalid(path, "unknown scope \"" + scope + "\": " + kKeyForms);
  }
  if (scope == "step:") {
    return Status::Invalid(path, "the step name after \"step:\" is empty");
  }
  bool is_pass_rate = std::string_view(metric->metric) == "pass_rate";
  if (is_checks && !is_pass_rate) {
    return Status::Invalid(path, "checks has one metric, pass_rate (checks.pass_rate)");
  }
  if (!is_checks && is_pass_rate) {
    return Status::Invalid(path, "pass_rate is for checks only (checks.pass_rate)");
  }
  t->key = key;
  t->scope = std::move(scope);
  t->metric = metric->metric;
  *kind = metric->kind;
  return Status::Ok();
}

// The value after the comparison, in the metric's unit. `quoted` is the
// condition as written, in quotes, for messages.
Status ReadLatencyUs(std::string_view v, const Threshold& t, const std::string& quoted,
                     const std::string& path, double* out) {
  if (!v.empty() && v.back() == '%') {
    return Status::Invalid(path, t.metric + " is a latency: " + quoted +
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
    return Status::Invalid(path, t.metric + " is a rate: " + quoted +
                                     " needs a percentage (e.g. <1%) or a fraction "
                                     "(e.g. <0.01)");
  }
  if (percent && *n > 100) return Status::Invalid(path, quoted + " is above 100%");
  if (!percent && *n > 1) {
    return Status::Invalid(path, quoted + " is not a fraction between 0 and 1: write " +
                                     t.op + std::string(v) + "% or a fraction");
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

Status ReadCondition(Kind kind, const std::string& path, Threshold* t) {
  std::string s;  // the condition without white space: "< 250 ms" reads as "<250ms"
  for (char c : t->condition) {
    if (c != ' ' && c != '\t') s += c;
  }
  for (const char* op : {"<=", ">=", "<", ">"}) {
    if (s.rfind(op, 0) == 0) {
      t->op = op;
      break;
    }
  }
  if (t->op.empty()) {
    return Status::Invalid(
        path, "\"" + t->condition +
                  "\" needs a comparison first: <, <=, > or >= (e.g. <250ms)");
  }
  std::string_view value = std::string_view(s).substr(t->op.size());
  if (value.empty()) {
    return Status::Invalid(path, "\"" + t->condition + "\" needs a value after " + t->op);
  }
  const std::string quoted = "\"" + t->condition + "\"";
  switch (kind) {
    case Kind::kLatency:
      return ReadLatencyUs(value, *t, quoted, path, &t->value);
    case Kind::kRate:
      return ReadRate(value, *t, quoted, path, &t->value);
    case Kind::kRps:
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
  Kind kind;
  LOADD_RETURN_IF_ERROR(ReadKey(key, path, t, &kind));
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
  return ReadCondition(kind, path, t);
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

bool ThresholdHolds(const Threshold& t, double actual) {
  if (t.op == "<") return actual < t.value;
  if (t.op == "<=") return actual <= t.value;
  if (t.op == ">") return actual > t.value;
  return actual >= t.value;
}

}  // namespace loadd
