#include "common/scenario.h"

#include <rapidjson/pointer.h>

#include <algorithm>
#include <numeric>

#include "common/clock.h"
#include "common/http_fields.h"
#include "common/units.h"
#include "common/wire_stats.h"

namespace loadd {
namespace {

constexpr size_t kMaxScenarios = 100;
constexpr size_t kMaxSteps = 100;
constexpr size_t kMaxChecks = 32;
constexpr int64_t kMaxWaitNs = 3600 * kNsPerSec;
// Step names travel as stats rows' names and head check names: a step name
// and a cut check name's fixed parts (": body contains \"", "…\" #" and the
// hash: under 64 bytes) fit, so CheckName keeps the step name whole.
static_assert(kMaxStepNameBytes <= kMaxStatsEndpointNameBytes);
static_assert(kMaxStepNameBytes + 64 < kMaxStatsCheckNameBytes);

std::string Compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

// The longest prefix of valid UTF-8 `s` of at most `max_bytes` that ends on
// a character boundary.
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

// 64-bit FNV-1a, as 16 hex digits: the same on every worker and build.
std::string HashHex(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[i] = kHex[h & 0xf];
  return out;
}

// A check's name, "<step>: <head><value><tail>", bounded for the stats wire
// (Check::name): `value` is the user's text (a quoted substring, a pattern)
// and is what gets cut; when even the rest is too long, the whole name is.
std::string CheckName(std::string_view step, std::string_view head,
                      std::string_view value, std::string_view tail) {
  std::string full = std::string(step) + ": ";
  full.append(head).append(value).append(tail);
  if (full.size() <= kMaxStatsCheckNameBytes) return full;
  const std::string hash = " #" + HashHex(full);
  const std::string mark = "\xe2\x80\xa6" + std::string(tail) + hash;  // "…"
  const size_t fixed = step.size() + 2 + head.size() + mark.size();
  if (fixed < kMaxStatsCheckNameBytes) {
    std::string name(full, 0, step.size() + 2 + head.size());
    name.append(Utf8Prefix(value, kMaxStatsCheckNameBytes - fixed)).append(mark);
    return name;
  }
  std::string name(Utf8Prefix(full, kMaxStatsCheckNameBytes - 3 - hash.size()));
  return name + "\xe2\x80\xa6" + hash;
}

// Compiles a template, turning its error into one at `path`.
Status CompileAt(const std::string& path, const std::string& text, Escape escape,
                 const std::set<std::string>& vars, const std::set<std::string>& env,
                 Template* out) {
  Result<Template> t = Template::Compile(text, escape, vars, env);
  if (!t.ok()) return Status::Invalid(path, t.status().message());
  *out = std::move(*t);
  return Status::Ok();
}

Status ReadThink(ObjectReader* r, ThinkTime* think) {
  const rapidjson::Value* v = r->Get("think_time");
  if (v == nullptr) return Status::Ok();
  std::string path = r->FieldPath("think_time");
  if (v->IsString() || v->IsNumber()) {
    think->kind = ThinkTime::Kind::kConstant;
    return r->DurationNs("think_time", &think->min_ns, 0, kMaxWaitNs);
  }
  ObjectReader t(*v, path);
  if (v->IsObject() && v->HasMember("pacing")) {
    think->kind = ThinkTime::Kind::kPacing;
    LOADD_RETURN_IF_ERROR(
        t.DurationNs("pacing", &think->min_ns, kNsPerMs, kMaxWaitNs, true));
    return t.Finish();
  }
  think->kind = ThinkTime::Kind::kUniform;
  LOADD_RETURN_IF_ERROR(t.DurationNs("min", &think->min_ns, 0, kMaxWaitNs, true));
  LOADD_RETURN_IF_ERROR(t.DurationNs("max", &think->max_ns, 0, kMaxWaitNs, true));
  if (think->max_ns < think->min_ns)
    return Status::Invalid(path + ".max", "must be >= min");
  return t.Finish();
}

Status ReadBody(ObjectReader* r, const std::set<std::string>& vars,
                const std::set<std::string>& env, Step* step, std::string* content_type) {
  const rapidjson::Value* json = r->Get("json");
  const rapidjson::Value* form = r->Get("form");
  const rapidjson::Value* body = r->Get("body");
  if ((json != nullptr) + (form != nullptr) + (body != nullptr) > 1) {
    return Status::Invalid(r->FieldPath(json ? "json" : "form"),
                           "give one of body, json or form");
  }
  std::string text;
  Escape escape = Escape::kNone;
  std::string path;
  if (json != nullptr) {
    text = Compact(*json);
    escape = Escape::kJsonString;  // templates sit inside JSON strings
    *content_type = "application/json";
    path = r->FieldPath("json");
  } else if (form != nullptr) {
    path = r->FieldPath("form");
    HttpFieldList fields;
    LOADD_RETURN_IF_ERROR(ReadFormFields(r, &fields));
    for (const auto& [name, value] : fields) {
      Template part;  // each value compiles on its own, for its own path
      LOADD_RETURN_IF_ERROR(
          CompileAt(JsonPathField(path, name), value, Escape::kUrl, vars, env, &part));
    }
    // Names and literal text are url-encoded here; templates encode their
    // values when rendered.
    text = EncodeParams(fields);
    escape = Escape::kUrl;
    *content_type = "application/x-www-form-urlencoded";
  } else if (body != nullptr) {
    path = r->FieldPath("body");
    if (!body->IsString()) return Status::Invalid(path, "must be a string (or use json)");
    text = body->GetString();
  } else {
    return Status::Ok();
  }
  if (text.size() > (1 << 20)) return Status::Invalid(path, "is larger than 1 MiB");
  step->has_body = true;
  return CompileAt(path, text, escape, vars, env, &step->body);
}

Status ReadExtracts(ObjectReader* r, std::set<std::string>* vars, Step* step) {
  const rapidjson::Value* v = r->Get("extract");
  if (v == nullptr) return Status::Ok();
  std::string path = r->FieldPath("extract");
  if (!v->IsObject())
    return Status::Invalid(path, "must be an object of name: {json|regex|header}");
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    std::string name = it->name.GetString();
    std::string at = JsonPathField(path, name);
    Extract e;
    e.var = name;
    e.check_name = CheckName(step->name, "extract ", name, "");
    ObjectReader x(it->value, at);
    std::string json, regex, header;
    LOADD_RETURN_IF_ERROR(x.String("json", &json));
    LOADD_RETURN_IF_ERROR(x.String("regex", &regex));
    LOADD_RETURN_IF_ERROR(x.String("header", &header));
    LOADD_RETURN_IF_ERROR(x.Finish());
    if (!json.empty() + !regex.empty() + !header.empty() != 1) {
      return Status::Invalid(
          at, "give exactly one of json (a JSON pointer), regex or header");
    }
    if (!json.empty()) {
      if (!rapidjson::Pointer(json.c_str()).IsValid()) {
        return Status::Invalid(at + ".json",
                               "\"" + json + "\" is not a JSON pointer (e.g. /token)");
      }
      e.kind = Extract::Kind::kJson;
      e.expr = json;
      step->need_body = true;
    } else if (!regex.empty()) {
      Result<std::shared_ptr<const BodyRegex>> re = BodyRegex::Compile(regex);
      if (!re.ok()) return Status::Invalid(at + ".regex", re.status().message());
      e.regex = *re;
      e.kind = Extract::Kind::kRegex;
      e.expr = regex;
      step->need_body = true;
    } else {
      e.kind = Extract::Kind::kHeader;
      e.expr = Lower(header);
      step->need_headers.push_back(e.expr);
    }
    step->extracts.push_back(std::move(e));
    vars->insert(name);
  }
  return Status::Ok();
}

Status ReadCheck(const rapidjson::Value& v, const std::string& at, Step* step) {
  ObjectReader c(v, at);
  Check check;
  const rapidjson::Value* status = c.Get("status");
  std::string contains, regex, pointer, header, latency;
  LOADD_RETURN_IF_ERROR(c.String("body_contains", &contains));
  LOADD_RETURN_IF_ERROR(c.String("body_regex", &regex));
  LOADD_RETURN_IF_ERROR(c.String("json", &pointer));
  const rapidjson::Value* equals = c.Get("equals");
  LOADD_RETURN_IF_ERROR(c.String("header", &header));
  std::string header_contains;
  LOADD_RETURN_IF_ERROR(c.String("contains", &header_contains));
  LOADD_RETURN_IF_ERROR(c.String("latency", &latency));
  LOADD_RETURN_IF_ERROR(c.Finish());
  int kinds = (status != nullptr) + !contains.empty() + !regex.empty() +
              !pointer.empty() + !header.empty() + !latency.empty();
  if (kinds != 1) {
    return Status::Invalid(at,
                           "give exactly one of status, body_contains, body_regex, "
                           "json (+ equals), header (+ contains) or latency");
  }
  std::string head, value, tail;  // the name's parts after "<step>: "
  if (status != nullptr) {
    check.kind = Check::Kind::kStatus;
    auto add = [&](const rapidjson::Value& s) {
      if (!s.IsInt() || s.GetInt() < 100 || s.GetInt() > 599) return false;
      check.statuses.push_back(s.GetInt());
      return true;
    };
    bool ok = status->IsArray() ? !status->Empty() : add(*status);
    if (status->IsArray()) {
      for (const auto& s : status->GetArray()) ok = ok && add(s);
    }
    if (!ok)
      return Status::Invalid(at + ".status", "must be a status code or a list of them");
    head = "status == ";
    value = Compact(*status);
  } else if (!contains.empty()) {
    check.kind = Check::Kind::kBodyContains;
    check.text = contains;
    head = "body contains \"";
    value = contains;
    tail = "\"";
    step->need_body = true;
  } else if (!regex.empty()) {
    check.kind = Check::Kind::kBodyRegex;
    Result<std::shared_ptr<const BodyRegex>> re = BodyRegex::Compile(regex);
    if (!re.ok()) return Status::Invalid(at + ".body_regex", re.status().message());
    check.regex = *re;
    head = "body matches /";
    value = regex;
    tail = "/";
    step->need_body = true;
  } else if (!pointer.empty()) {
    if (!rapidjson::Pointer(pointer.c_str()).IsValid()) {
      return Status::Invalid(at + ".json", "\"" + pointer + "\" is not a JSON pointer");
    }
    if (equals == nullptr)
      return Status::Invalid(at + ".equals", "is required with json");
    check.kind = Check::Kind::kJsonEquals;
    check.text = pointer;
    check.equals_json = Compact(*equals);
    head = pointer + " == ";
    value = check.equals_json;
    step->need_body = true;
  } else if (!header.empty()) {
    check.kind = Check::Kind::kHeaderContains;
    check.header = Lower(header);
    check.text = header_contains;
    step->need_headers.push_back(check.header);
    head = "header " + header + " contains \"";
    value = header_contains;
    tail = "\"";
  } else {
    check.kind = Check::Kind::kLatency;
    if (latency.empty() || latency[0] != '<') {
      return Status::Invalid(at + ".latency", "must be \"<DURATION\", e.g. \"<250ms\"");
    }
    Result<int64_t> ns = ParseDurationNs(latency.substr(1));
    if (!ns.ok()) return Status::Invalid(at + ".latency", ns.status().message());
    check.latency_us = *ns / kNsPerUs;
    head = "latency ";
    value = latency;
  }
  if (equals != nullptr && check.kind != Check::Kind::kJsonEquals) {
    return Status::Invalid(at + ".equals", "goes with json");
  }
  check.name = CheckName(step->name, head, value, tail);
  step->checks.push_back(std::move(check));
  return Status::Ok();
}

Status ReadChecks(ObjectReader* r, Step* step) {
  const rapidjson::Value* v = r->Get("checks");
  if (v == nullptr) return Status::Ok();
  std::string path = r->FieldPath("checks");
  if (!v->IsArray() || v->Size() > kMaxChecks) {
    return Status::Invalid(path, "must be an array of at most 32 checks");
  }
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    LOADD_RETURN_IF_ERROR(ReadCheck((*v)[i], JsonPathIndex(path, i), step));
  }
  return Status::Ok();
}

Status ReadAuth(ObjectReader* r, const std::set<std::string>& vars,
                const std::set<std::string>& env, Step* step) {
  bool present = false;
  AuthFields auth;
  LOADD_RETURN_IF_ERROR(ReadAuthFields(r, &present, &auth));
  if (!present) return Status::Ok();
  // Basic credentials are literal (no templates): only a bearer token is
  // compiled against the variables.
  bool bearer = !auth.bearer.empty();
  Template t;
  LOADD_RETURN_IF_ERROR(CompileAt(r->FieldPath("auth") + (bearer ? ".bearer" : ".basic"),
                                  AuthorizationValue(auth), Escape::kHeader,
                                  bearer ? vars : std::set<std::string>{},
                                  bearer ? env : std::set<std::string>{}, &t));
  step->headers.emplace_back("Authorization", std::move(t));
  return Status::Ok();
}

}  // namespace

std::vector<uint32_t> WeightedRotation(const std::vector<int64_t>& weights) {
  constexpr size_t kMaxRotation = 100'000;
  int64_t g = 0, sum = 0;
  for (int64_t w : weights) {
    g = std::gcd(g, w);
    sum += w;
  }
  int64_t total = 0;
  for (int64_t w : weights) total += w / g;
  total = std::min<int64_t>(total, kMaxRotation);
  std::vector<int64_t> current(weights.size(), 0);
  std::vector<uint32_t> order;
  for (int64_t n = 0; n < total; ++n) {
    size_t best = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= sum;
    order.push_back(static_cast<uint32_t>(best));
  }
  return order;
}

namespace {

Status ReadStep(const rapidjson::Value& v, const std::string& at,
                const std::string& target, const std::set<std::string>& env,
                std::set<std::string>* vars, Step* step) {
  ObjectReader r(v, at);
  LOADD_RETURN_IF_ERROR(ReadRequestUrl(&r, target, &step->url));
  LOADD_RETURN_IF_ERROR(ReadMethod(&r, &step->method));
  LOADD_RETURN_IF_ERROR(r.String("name", &step->name));
  if (step->name.size() > kMaxStepNameBytes) {
    return Status::Invalid(
        r.FieldPath("name"),
        "is longer than " + std::to_string(kMaxStepNameBytes) + " bytes");
  }
  if (step->name.empty()) {
    step->name = Utf8Prefix(step->method + " " + step->url.target, kMaxStepNameBytes);
  }
  std::string target_text = step->url.target;
  HttpFieldList query;
  LOADD_RETURN_IF_ERROR(ReadQueryFields(&r, &query));
  if (!query.empty()) {
    target_text += target_text.find('?') == std::string::npos ? "?" : "&";
    target_text += EncodeParams(query);
  }
  LOADD_RETURN_IF_ERROR(CompileAt(r.FieldPath(query.empty() ? "path" : "query"),
                                  target_text, Escape::kUrl, *vars, env, &step->target));
  HttpFieldList headers;
  LOADD_RETURN_IF_ERROR(ReadHeaderFields(&r, &headers));
  for (auto& [name, value] : headers) {
    Template t;
    LOADD_RETURN_IF_ERROR(CompileAt(JsonPathField(r.FieldPath("headers"), name), value,
                                    Escape::kHeader, *vars, env, &t));
    step->headers.emplace_back(std::move(name), std::move(t));
  }
  LOADD_RETURN_IF_ERROR(ReadAuth(&r, *vars, env, step));
  std::string content_type;
  LOADD_RETURN_IF_ERROR(ReadBody(&r, *vars, env, step, &content_type));
  if (!content_type.empty()) {
    bool given = false;
    for (const auto& [k, t] : step->headers) given |= Lower(k) == "content-type";
    if (!given) {
      step->headers.emplace_back("Content-Type",
                                 *Template::Compile(content_type, Escape::kNone, {}, {}));
    }
  }
  LOADD_RETURN_IF_ERROR(r.DurationNs("timeout", &step->timeout_ns, kNsPerMs, kMaxWaitNs));
  // Checks see variables extracted by this very step? No: a step's checks
  // and extractions read the response; later steps read the variables.
  LOADD_RETURN_IF_ERROR(ReadChecks(&r, step));
  LOADD_RETURN_IF_ERROR(ReadExtracts(&r, vars, step));
  return r.Finish();
}

// Refuses a plan with more than kMaxRegexesPerPlan patterns before any is
// compiled, naming the first one over. Reads the raw JSON defensively: shapes
// it does not expect are left to the parser to refuse.
Status CheckRegexCount(const rapidjson::Value& scenarios) {
  size_t count = 0;
  auto over = [&count](const std::string& path) {
    if (++count <= kMaxRegexesPerPlan) return Status::Ok();
    return Status::Invalid(path, "a plan has at most " +
                                     std::to_string(kMaxRegexesPerPlan) +
                                     " regular expressions");
  };
  for (rapidjson::SizeType i = 0; i < scenarios.Size(); ++i) {
    const rapidjson::Value& sc = scenarios[i];
    if (!sc.IsObject() || !sc.HasMember("steps") || !sc["steps"].IsArray()) continue;
    const rapidjson::Value& steps = sc["steps"];
    for (rapidjson::SizeType j = 0; j < steps.Size(); ++j) {
      const rapidjson::Value& step = steps[j];
      if (!step.IsObject()) continue;
      std::string at = JsonPathIndex(JsonPathIndex("$.scenarios", i) + ".steps", j);
      auto checks = step.FindMember("checks");
      if (checks != step.MemberEnd() && checks->value.IsArray()) {
        for (rapidjson::SizeType k = 0; k < checks->value.Size(); ++k) {
          const rapidjson::Value& c = checks->value[k];
          if (c.IsObject() && c.HasMember("body_regex")) {
            LOADD_RETURN_IF_ERROR(over(JsonPathIndex(at + ".checks", k) + ".body_regex"));
          }
        }
      }
      auto extract = step.FindMember("extract");
      if (extract == step.MemberEnd() || !extract->value.IsObject()) continue;
      for (auto it = extract->value.MemberBegin(); it != extract->value.MemberEnd();
           ++it) {
        if (it->value.IsObject() && it->value.HasMember("regex")) {
          LOADD_RETURN_IF_ERROR(
              over(JsonPathField(at + ".extract", it->name.GetString()) + ".regex"));
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status ReadScenarios(const rapidjson::Value& value, const std::string& target,
                     const std::set<std::string>& env,
                     const std::set<std::string>& data_vars, std::vector<Scenario>* out) {
  if (!value.IsArray() || value.Empty() || value.Size() > kMaxScenarios) {
    return Status::Invalid("$.scenarios", "must be an array of 1 to 100 scenarios");
  }
  LOADD_RETURN_IF_ERROR(CheckRegexCount(value));
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
    std::string at = JsonPathIndex("$.scenarios", i);
    ObjectReader r(value[i], at);
    Scenario sc;
    LOADD_RETURN_IF_ERROR(r.String("name", &sc.name));
    if (sc.name.empty()) sc.name = "scenario " + std::to_string(i + 1);
    if (!names.insert(sc.name).second) {
      return Status::Invalid(r.FieldPath("name"), "\"" + sc.name + "\" is used twice");
    }
    LOADD_RETURN_IF_ERROR(r.Int("weight", &sc.weight, 1, 1000));
    LOADD_RETURN_IF_ERROR(ReadThink(&r, &sc.think));
    const rapidjson::Value* steps = r.Get("steps");
    if (steps == nullptr || !steps->IsArray() || steps->Empty() ||
        steps->Size() > kMaxSteps) {
      return Status::Invalid(r.FieldPath("steps"), "must be an array of 1 to 100 steps");
    }
    std::set<std::string> vars = data_vars;
    for (rapidjson::SizeType j = 0; j < steps->Size(); ++j) {
      Step step;
      LOADD_RETURN_IF_ERROR(ReadStep((*steps)[j], JsonPathIndex(r.FieldPath("steps"), j),
                                     target, env, &vars, &step));
      sc.steps.push_back(std::move(step));
    }
    LOADD_RETURN_IF_ERROR(r.Finish());
    out->push_back(std::move(sc));
  }
  return Status::Ok();
}

}  // namespace loadd
