#include "common/plan.h"

#include <algorithm>
#include <set>

#include "common/clock.h"
#include "common/http_fields.h"
#include "common/json_reader.h"
#include "common/redact.h"
#include "common/units.h"

namespace loadd {
namespace {

constexpr int64_t kDefaultDurationNs = 30 * kNsPerSec;
constexpr int64_t kDefaultTimeoutNs = 10 * kNsPerSec;
constexpr int64_t kDefaultGracefulStopNs = 5 * kNsPerSec;
constexpr int64_t kMaxPlanDurationNs = int64_t{7} * 24 * 3600 * kNsPerSec;
constexpr int64_t kDefaultMaxInFlight = 1000;
constexpr int64_t kDefaultExpectTimeoutNs = 60 * kNsPerSec;

Status ReadRequest(const rapidjson::Value& value, const std::string& path,
                   const Plan& plan, RequestSpec* spec) {
  ObjectReader r(value, path);
  LOADD_RETURN_IF_ERROR(ReadRequestUrl(&r, plan.target, &spec->url));
  LOADD_RETURN_IF_ERROR(CheckHttpVersionFor(plan.http, spec->url, path));
  if (spec->url.target.find("{{") != std::string::npos) {
    return Status::Invalid(r.FieldPath(r.Get("path") ? "path" : "url"),
                           "{{templates}} need scenarios (steps), not plain requests");
  }
  LOADD_RETURN_IF_ERROR(ReadMethod(&r, &spec->method));
  LOADD_RETURN_IF_ERROR(ReadHeaderFields(&r, &spec->headers));
  LOADD_RETURN_IF_ERROR(r.String("body", &spec->body));
  if (spec->body.size() > Plan::kMaxBodyBytes) {
    return Status::Invalid(r.FieldPath("body"), "is larger than 1 MiB");
  }
  LOADD_RETURN_IF_ERROR(r.Int("weight", &spec->weight, 1, 1000));
  LOADD_RETURN_IF_ERROR(r.String("name", &spec->name));
  if (spec->name.size() > 200)
    return Status::Invalid(r.FieldPath("name"), "is longer than 200 bytes");
  // A default name is cut to the same bound, so the normalized plan (which
  // writes it out) parses again.
  if (spec->name.empty())
    spec->name = (spec->method + " " + spec->url.target).substr(0, 200);
  return r.Finish();
}

// $.env: NAME: "value" (a secret) or NAME: {"value": "...", "public": true}.
Status ReadEnv(ObjectReader* r, Plan* plan) {
  const rapidjson::Value* env = r->Get("env");
  if (env == nullptr) return Status::Ok();
  if (!env->IsObject() || env->MemberCount() > 256) {
    return Status::Invalid("$.env",
                           "must be an object of at most 256 name: string values");
  }
  for (auto it = env->MemberBegin(); it != env->MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    std::string at = JsonPathField("$.env", name);
    std::string value;
    bool is_public = false;
    if (it->value.IsObject()) {
      ObjectReader o(it->value, at);
      LOADD_RETURN_IF_ERROR(o.String("value", &value, /*required=*/true));
      LOADD_RETURN_IF_ERROR(o.Bool("public", &is_public));
      LOADD_RETURN_IF_ERROR(o.Finish());
      at += ".value";
    } else if (it->value.IsString()) {
      value.assign(it->value.GetString(), it->value.GetStringLength());
    } else {
      return Status::Invalid(at,
                             "must be a string or {\"value\": string, \"public\": true}");
    }
    if (value.size() > 64 * 1024) return Status::Invalid(at, "is longer than 64 KiB");
    if (is_public) plan->public_env.insert(name);
    plan->env[name] = std::move(value);
  }
  return Status::Ok();
}

Status ReadPlanScenarios(ObjectReader* r, Plan* plan) {
  const rapidjson::Value* scenarios = r->Get("scenarios");
  std::set<std::string> env;
  for (const auto& [k, v] : plan->env) env.insert(k);
  const rapidjson::Value* data = r->Get("data");
  if (data != nullptr) LOADD_RETURN_IF_ERROR(ReadDataFile(*data, &plan->data));
  std::set<std::string> columns;
  for (const std::string& c : plan->data.columns) columns.insert("data." + c);
  LOADD_RETURN_IF_ERROR(
      ReadScenarios(*scenarios, plan->target, env, columns, &plan->scenarios));
  std::set<std::string> names;
  for (const Scenario& sc : plan->scenarios) {
    for (const Step& st : sc.steps) names.insert(st.name);
  }
  if (names.size() > Plan::kMaxNames) {
    return Status::Invalid("$.scenarios", "a plan has at most 256 distinct step names");
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  scenarios->Accept(w);
  plan->scenarios_json.assign(buf.GetString(), buf.GetSize());
  return Status::Ok();
}

Status ReadRequests(ObjectReader* r, Plan* plan) {
  if (r->Get("scenarios") != nullptr) {
    if (r->Get("requests") != nullptr) {
      return Status::Invalid("$.requests", "give requests or scenarios, not both");
    }
    return ReadPlanScenarios(r, plan);
  }
  if (r->Get("data") != nullptr) {
    return Status::Invalid("$.data",
                           "data files feed scenarios' templates: add scenarios");
  }
  const rapidjson::Value* requests = r->Get("requests");
  if (requests == nullptr) {
    if (plan->target.empty()) {
      return Status::Invalid("$.requests", "is required (or give $.target to GET it)");
    }
    rapidjson::Value empty(rapidjson::kObjectType);
    RequestSpec spec;
    LOADD_RETURN_IF_ERROR(ReadRequest(empty, "$.target", *plan, &spec));
    plan->requests.push_back(std::move(spec));
    return Status::Ok();
  }
  if (!requests->IsArray() || requests->Empty()) {
    return Status::Invalid("$.requests", "must be a non-empty array of requests");
  }
  if (requests->Size() > Plan::kMaxRequests) {
    return Status::Invalid("$.requests",
                           "at most " + std::to_string(Plan::kMaxRequests) + " requests");
  }
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < requests->Size(); ++i) {
    RequestSpec spec;
    LOADD_RETURN_IF_ERROR(
        ReadRequest((*requests)[i], JsonPathIndex("$.requests", i), *plan, &spec));
    names.insert(spec.name);
    if (names.size() > Plan::kMaxNames) {
      return Status::Invalid(
          JsonPathIndex("$.requests", i) + ".name",
          "a plan has at most 256 distinct request names (requests that "
          "share a name share a stats row, e.g. \"/items/[id]\")");
    }
    plan->requests.push_back(std::move(spec));
  }
  return Status::Ok();
}

Status ReadStages(ObjectReader* r, Plan* plan) {
  const rapidjson::Value* stages = r->Get("stages");
  std::string path = "$.stages";
  if (!stages->IsArray() || stages->Empty() || stages->Size() > Plan::kMaxStages) {
    return Status::Invalid(path, "must be an array of 1 to 100 stages");
  }
  const char* key = nullptr;  // "users" or "rate", fixed by the first stage
  int64_t total_ns = 0;
  for (rapidjson::SizeType i = 0; i < stages->Size(); ++i) {
    ObjectReader s((*stages)[i], JsonPathIndex(path, i));
    Stage stage;
    LOADD_RETURN_IF_ERROR(
        s.DurationNs("duration", &stage.duration_ns, 0, kMaxPlanDurationNs, true));
    if (key == nullptr) {
      key = (*stages)[i].IsObject() && (*stages)[i].HasMember("rate") ? "rate" : "users";
    }
    if (std::string_view(key) == "users") {
      int64_t users = 0;
      LOADD_RETURN_IF_ERROR(s.Int("users", &users, 0, Plan::kMaxUsers, true));
      stage.target = static_cast<double>(users);
    } else {
      LOADD_RETURN_IF_ERROR(s.NonNegative("rate", &stage.target, Plan::kMaxRate, true));
    }
    LOADD_RETURN_IF_ERROR(s.Finish());
    total_ns += stage.duration_ns;
    plan->stages.push_back(stage);
  }
  if (total_ns < kNsPerMs || total_ns > kMaxPlanDurationNs) {
    return Status::Invalid(path, "stages must add up to between 1ms and 7 days");
  }
  plan->duration_ns = total_ns;
  plan->model = std::string_view(key) == "rate" ? LoadModel::kOpen : LoadModel::kClosed;
  return Status::Ok();
}

// Reads the load model: users + spawn_rate + duration, arrival_rate +
// duration, or stages of users or of rates. Mixing forms is an error that
// names the field that does not belong.
Status ReadLoad(ObjectReader* r, Plan* plan) {
  bool staged = r->Get("stages") != nullptr;
  bool open = r->Get("arrival_rate") != nullptr;
  auto refuse = [&](const char* field, const char* why) -> Status {
    return r->Get(field) != nullptr ? Status::Invalid(r->FieldPath(field), why)
                                    : Status::Ok();
  };
  if (staged) {
    LOADD_RETURN_IF_ERROR(ReadStages(r, plan));
    const char* why =
        "does not go with $.stages (the stages set the load and its duration)";
    for (const char* f : {"users", "spawn_rate", "arrival_rate", "duration"}) {
      LOADD_RETURN_IF_ERROR(refuse(f, why));
    }
    if (plan->model == LoadModel::kClosed) {
      LOADD_RETURN_IF_ERROR(
          refuse("start_rate", "only for stages of rates (open model)"));
      double peak = 0;
      for (const Stage& st : plan->stages) peak = std::max(peak, st.target);
      plan->users = static_cast<int64_t>(peak);
      if (plan->users < 1) return Status::Invalid("$.stages", "no stage has any users");
    } else {
      LOADD_RETURN_IF_ERROR(
          r->NonNegative("start_rate", &plan->start_rate, Plan::kMaxRate));
    }
  } else if (open) {
    plan->model = LoadModel::kOpen;
    const char* why =
        "the open model (arrival_rate) has no users; cap iterations in flight "
        "with max_in_flight";
    LOADD_RETURN_IF_ERROR(refuse("users", why));
    LOADD_RETURN_IF_ERROR(refuse("spawn_rate", why));
    LOADD_RETURN_IF_ERROR(refuse("start_rate", "only for stages of rates"));
    LOADD_RETURN_IF_ERROR(
        r->Number("arrival_rate", &plan->arrival_rate, 0, Plan::kMaxRate));
    plan->duration_ns = kDefaultDurationNs;
    LOADD_RETURN_IF_ERROR(
        r->DurationNs("duration", &plan->duration_ns, kNsPerMs, kMaxPlanDurationNs));
  } else {
    LOADD_RETURN_IF_ERROR(refuse("start_rate", "only for stages of rates"));
    LOADD_RETURN_IF_ERROR(
        r->Int("users", &plan->users, 1, Plan::kMaxUsers, /*required=*/true));
    plan->spawn_rate = static_cast<double>(plan->users);
    LOADD_RETURN_IF_ERROR(r->Number("spawn_rate", &plan->spawn_rate, 0, Plan::kMaxRate));
    plan->duration_ns = kDefaultDurationNs;
    LOADD_RETURN_IF_ERROR(
        r->DurationNs("duration", &plan->duration_ns, kNsPerMs, kMaxPlanDurationNs));
  }
  if (plan->model == LoadModel::kOpen) {
    plan->max_in_flight = kDefaultMaxInFlight;
    LOADD_RETURN_IF_ERROR(
        r->Int("max_in_flight", &plan->max_in_flight, 1, Plan::kMaxUsers));
  } else {
    LOADD_RETURN_IF_ERROR(
        refuse("max_in_flight", "only for the open model (arrival_rate)"));
  }
  return Status::Ok();
}

}  // namespace

LoadProfile Plan::Profile() const {
  std::vector<LoadProfile::Knot> knots;
  if (!stages.empty()) {
    knots.push_back({0, model == LoadModel::kOpen ? start_rate : 0.0});
    int64_t t = 0;
    for (const Stage& s : stages) {
      t += s.duration_ns;
      knots.push_back({t, s.target});
    }
  } else if (model == LoadModel::kOpen) {
    knots = {{0, arrival_rate}, {duration_ns, arrival_rate}};
  } else {
    // User i starts i / spawn_rate seconds in: U(t) = spawn_rate * t.
    double ramp_ns = static_cast<double>(users) / spawn_rate * 1e9;
    if (ramp_ns < static_cast<double>(duration_ns)) {
      knots = {{0, 0},
               {static_cast<int64_t>(ramp_ns), static_cast<double>(users)},
               {duration_ns, static_cast<double>(users)}};
    } else {
      knots = {{0, 0},
               {duration_ns, spawn_rate * static_cast<double>(duration_ns) / 1e9}};
    }
  }
  return LoadProfile(std::move(knots));
}

double Plan::HandoverRate() const {
  if (model == LoadModel::kClosed && stages.empty()) return spawn_rate;
  double steepest = 0;  // users per second on the steepest stage
  for (const Stage& s : stages) {
    if (s.duration_ns > 0) steepest = std::max(steepest, s.target * 1e9 / s.duration_ns);
  }
  return steepest > 0 ? steepest : std::max<double>(1, static_cast<double>(users));
}

namespace {

// $.http_version "2" holds for every step's URL (requests check theirs
// in ReadRequest).
Status CheckHttpVersion(const Plan& plan) {
  for (size_t i = 0; i < plan.scenarios.size(); ++i) {
    for (size_t j = 0; j < plan.scenarios[i].steps.size(); ++j) {
      LOADD_RETURN_IF_ERROR(CheckHttpVersionFor(
          plan.http, plan.scenarios[i].steps[j].url,
          JsonPathIndex(JsonPathIndex("$.scenarios", i) + ".steps", j)));
    }
  }
  return Status::Ok();
}

Status ReadExpect(ObjectReader* r, Plan* plan) {
  LOADD_RETURN_IF_ERROR(r->Int("expect_workers", &plan->expect_workers, 0, 100000));
  plan->expect_timeout_ns = kDefaultExpectTimeoutNs;
  return r->DurationNs("expect_timeout", &plan->expect_timeout_ns, 0, 3600 * kNsPerSec);
}

// $.workers, $.priority and $.queue: placement and the run queue.
Status ReadPlacement(ObjectReader* r, Plan* plan) {
  if (const rapidjson::Value* v = r->Get("workers")) {
    std::string path = r->FieldPath("workers");
    if (!v->IsObject()) {
      return Status::Invalid(path,
                             "must be an object such as {\"count\": 8, "
                             "\"labels\": {\"pool\": \"eu\"}}");
    }
    ObjectReader w(*v, path);
    LOADD_RETURN_IF_ERROR(
        w.Int("count", &plan->workers.count, 1, WorkerSelector::kMaxCount));
    LOADD_RETURN_IF_ERROR(ReadLabels(&w, "labels", &plan->workers.labels));
    LOADD_RETURN_IF_ERROR(w.Finish());
  }
  LOADD_RETURN_IF_ERROR(
      r->Int("priority", &plan->priority, -Plan::kMaxPriority, Plan::kMaxPriority));
  return r->Bool("queue", &plan->queue);
}

// $.name: shown in lists and reports, so bounded and free of control bytes
// (a terminal escape in a name would reach every `loadctl runs`).
Status ReadPlanName(ObjectReader* r, std::string* name) {
  LOADD_RETURN_IF_ERROR(r->String("name", name));
  if (name->size() > Plan::kMaxNameBytes) {
    return Status::Invalid("$.name", "is longer than 256 bytes");
  }
  for (unsigned char c : *name) {
    if (c < 0x20 || c == 0x7f) {
      return Status::Invalid("$.name", "must not hold control characters");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Plan> PlanFromJson(const rapidjson::Value& value) {
  Plan plan;
  ObjectReader r(value, "$");
  LOADD_RETURN_IF_ERROR(ReadPlanName(&r, &plan.name));
  LOADD_RETURN_IF_ERROR(ReadLabels(&r, "labels", &plan.labels));
  LOADD_RETURN_IF_ERROR(r.String("target", &plan.target));
  if (!plan.target.empty()) {
    Result<Url> url = ParseUrl(plan.target);
    if (!url.ok()) return Status::Invalid("$.target", url.status().message());
  }
  LOADD_RETURN_IF_ERROR(ReadLoad(&r, &plan));
  LOADD_RETURN_IF_ERROR(ReadExpect(&r, &plan));
  LOADD_RETURN_IF_ERROR(ReadPlacement(&r, &plan));
  plan.timeout_ns = kDefaultTimeoutNs;
  LOADD_RETURN_IF_ERROR(
      r.DurationNs("timeout", &plan.timeout_ns, kNsPerMs, 3600 * kNsPerSec));
  plan.graceful_stop_ns = kDefaultGracefulStopNs;
  LOADD_RETURN_IF_ERROR(
      r.DurationNs("graceful_stop", &plan.graceful_stop_ns, 0, 3600 * kNsPerSec));
  LOADD_RETURN_IF_ERROR(ReadEnv(&r, &plan));
  LOADD_RETURN_IF_ERROR(ReadHttpOptions(&r, &plan.http));
  LOADD_RETURN_IF_ERROR(ReadRegexMaxBytes(&r, &plan.regex_max_bytes));
  LOADD_RETURN_IF_ERROR(ReadRequests(&r, &plan));
  LOADD_RETURN_IF_ERROR(CheckHttpVersion(plan));
  LOADD_RETURN_IF_ERROR(ReadThresholds(r.Get("thresholds"), &plan.thresholds));
  LOADD_RETURN_IF_ERROR(r.Finish());
  return plan;
}

Result<Plan> ParsePlan(std::string_view json) {
  rapidjson::Document doc;
  LOADD_RETURN_IF_ERROR(ParseJson(json, &doc));
  LOADD_RETURN_IF_ERROR(RefuseRedacted(doc));
  return PlanFromJson(doc);
}

namespace {

void WriteLoad(const Plan& plan, JsonWriter* w) {
  if (!plan.stages.empty()) {
    const char* key = plan.model == LoadModel::kOpen ? "rate" : "users";
    if (plan.model == LoadModel::kOpen) {
      w->Key("start_rate");
      WriteNumber15(w, plan.start_rate);
    }
    w->Key("stages");
    w->StartArray();
    for (const Stage& s : plan.stages) {
      w->StartObject();
      w->Key("duration");
      WriteString(w, FormatDurationNs(s.duration_ns));
      w->Key(key);
      if (plan.model == LoadModel::kOpen) {
        WriteNumber15(w, s.target);
      } else {
        w->Int64(static_cast<int64_t>(s.target));
      }
      w->EndObject();
    }
    w->EndArray();
  } else {
    if (plan.model == LoadModel::kOpen) {
      w->Key("arrival_rate");
      WriteNumber15(w, plan.arrival_rate);
    } else {
      w->Key("users");
      w->Int64(plan.users);
      w->Key("spawn_rate");
      WriteNumber15(w, plan.spawn_rate);
    }
    w->Key("duration");
    WriteString(w, FormatDurationNs(plan.duration_ns));
  }
  if (plan.model == LoadModel::kOpen) {
    w->Key("max_in_flight");
    w->Int64(plan.max_in_flight);
  }
  if (plan.expect_workers > 0) {
    w->Key("expect_workers");
    w->Int64(plan.expect_workers);
    w->Key("expect_timeout");
    WriteString(w, FormatDurationNs(plan.expect_timeout_ns));
  }
}

void WritePlacement(const Plan& plan, JsonWriter* w) {
  const WorkerSelector& sel = plan.workers;
  if (sel.count > 0 || !sel.labels.empty()) {
    w->Key("workers");
    w->StartObject();
    if (sel.count > 0) {
      w->Key("count");
      w->Int64(sel.count);
    }
    if (!sel.labels.empty()) WriteLabels(w, "labels", sel.labels);
    w->EndObject();
  }
  if (plan.priority != 0) {
    w->Key("priority");
    w->Int64(plan.priority);
  }
  if (!plan.queue) {
    w->Key("queue");
    w->Bool(false);
  }
}

}  // namespace

void WritePlan(const Plan& plan, JsonWriter* w) { WritePlanFields(plan, true, w); }

void WritePlanForWorkers(const Plan& plan, JsonWriter* w) {
  WritePlanFields(plan, false, w);
}

void WritePlanFields(const Plan& plan, bool with_labels, JsonWriter* w) {
  w->StartObject();
  w->Key("name");
  WriteString(w, plan.name);
  if (with_labels && !plan.labels.empty()) WriteLabels(w, "labels", plan.labels);
  // Placement is the coordinator's business: workers never get it.
  if (with_labels) WritePlacement(plan, w);
  if (!plan.target.empty()) {
    w->Key("target");
    WriteString(w, plan.target);
  }
  WriteLoad(plan, w);
  w->Key("timeout");
  WriteString(w, FormatDurationNs(plan.timeout_ns));
  w->Key("graceful_stop");
  WriteString(w, FormatDurationNs(plan.graceful_stop_ns));
  if (!plan.thresholds.empty()) WriteThresholds(plan.thresholds, w);
  if (!plan.env.empty()) {
    w->Key("env");
    w->StartObject();
    for (const auto& [k, v] : plan.env) {
      WriteString(w, k);
      if (plan.public_env.count(k) == 0) {
        WriteString(w, v);
        continue;
      }
      w->StartObject();
      WriteField(w, "value", v);
      w->Key("public");
      w->Bool(true);
      w->EndObject();
    }
    w->EndObject();
  }
  if (!plan.data.empty()) WriteDataFile(plan.data, w);
  WriteHttpOptions(plan.http, w);
  if (plan.regex_max_bytes != kDefaultRegexMaxBytes) {
    w->Key("regex_max_bytes");
    w->Int64(plan.regex_max_bytes);
  }
  if (!plan.scenarios.empty()) {
    w->Key("scenarios");
    w->RawValue(plan.scenarios_json.data(), plan.scenarios_json.size(),
                rapidjson::kArrayType);
    w->EndObject();
    return;
  }
  w->Key("requests");
  w->StartArray();
  for (const RequestSpec& req : plan.requests) {
    w->StartObject();
    w->Key("name");
    WriteString(w, req.name);
    w->Key("method");
    WriteString(w, req.method);
    w->Key("url");
    WriteString(w, req.url.ToString());
    if (!req.headers.empty()) {
      w->Key("headers");
      w->StartObject();
      for (const auto& [k, v] : req.headers) {
        WriteString(w, k);
        WriteString(w, v);
      }
      w->EndObject();
    }
    if (!req.body.empty()) {
      w->Key("body");
      WriteString(w, req.body);
    }
    w->Key("weight");
    w->Int64(req.weight);
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
}

std::string PlanToJson(const Plan& plan) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  WritePlan(plan, &w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace loadd
