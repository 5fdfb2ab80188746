#include "ctl/plan_source.h"

#include <rapidjson/document.h>

#include <cstdlib>

#include "common/json.h"
#include "common/labels.h"
#include "common/units.h"
#include "ctl/data_inline.h"
#include "ctl/plan_env.h"

namespace loadd {
namespace {

enum class Kind { kCount, kNumber, kString };

// What a flag's field means to the load model.
enum class Role {
  kOther,   // fits any plan
  kStaged,  // stages set it: refused on a plan with stages
  kClosed,  // kStaged, and picks the closed model: removes kOpenOnly
  kOpen,    // kStaged, and picks the open model: removes kClosedOnly
};

constexpr const char* kClosedOnly[] = {"users", "spawn_rate"};
constexpr const char* kOpenOnly[] = {"arrival_rate", "max_in_flight"};

// One flag that overrides one top-level plan field.
struct Override {
  const char* flag;
  const char* key;
  std::string PlanFlags::*value;
  Kind kind;
  Role role;
};

constexpr Override kOverrides[] = {
    {"--users", "users", &PlanFlags::users, Kind::kCount, Role::kClosed},
    {"--spawn-rate", "spawn_rate", &PlanFlags::spawn_rate, Kind::kNumber, Role::kStaged},
    {"--arrival-rate", "arrival_rate", &PlanFlags::arrival_rate, Kind::kNumber,
     Role::kOpen},
    {"--max-in-flight", "max_in_flight", &PlanFlags::max_in_flight, Kind::kCount,
     Role::kOther},
    {"--duration", "duration", &PlanFlags::duration, Kind::kString, Role::kStaged},
    {"--timeout", "timeout", &PlanFlags::timeout, Kind::kString, Role::kOther},
    {"--expect-workers", "expect_workers", &PlanFlags::expect_workers, Kind::kCount,
     Role::kOther},
    {"--expect-timeout", "expect_timeout", &PlanFlags::expect_timeout, Kind::kString,
     Role::kOther},
    {"--name", "name", &PlanFlags::name, Kind::kString, Role::kOther},
    {"--target", "target", &PlanFlags::target, Kind::kString, Role::kOther},
};

bool IsSet(const PlanFlags& flags, const Override& o) {
  return !(flags.*o.value).empty();
}

// Numbers go in as JSON numbers when they parse, otherwise as the string
// typed, so ParsePlan reports the problem in its own words.
rapidjson::Value FlagValue(const std::string& text, Kind kind,
                           rapidjson::Document::AllocatorType& alloc) {
  if (kind == Kind::kCount) {
    Result<int64_t> count = ParseCount(text);
    if (count.ok()) return rapidjson::Value(*count);
  } else if (kind == Kind::kNumber && !text.empty()) {
    char* end = nullptr;
    double number = std::strtod(text.c_str(), &end);
    if (end != nullptr && *end == '\0') return rapidjson::Value(number);
  }
  return rapidjson::Value(text.c_str(), static_cast<rapidjson::SizeType>(text.size()),
                          alloc);
}

// Refuses flags that have no meaning together or on this plan, before any
// is applied, so the message names the flag rather than a field it touched.
Status CheckConflicts(const PlanFlags& flags, const rapidjson::Document& doc) {
  if (!flags.users.empty() && !flags.arrival_rate.empty()) {
    return Status::Invalid(
        "--arrival-rate",
        "cannot be combined with --users: the open model (arrival rate) "
        "has no users; cap iterations in flight with --max-in-flight");
  }
  if (!doc.IsObject() || !doc.HasMember("stages")) return Status::Ok();
  for (const Override& o : kOverrides) {
    if (o.role != Role::kOther && IsSet(flags, o)) {
      return Status::Invalid(
          o.flag,
          "conflicts with the plan's stages, which set the load and its "
          "duration; edit the stages instead");
    }
  }
  return Status::Ok();
}

// Removes the other model's fields first, then sets every flag's field (in
// place when the plan has it), so a flag never removes another flag's value.
void ApplyOverrides(const PlanFlags& flags, rapidjson::Document* doc) {
  if (!doc->IsObject()) return;  // ParsePlan reports it
  auto& alloc = doc->GetAllocator();
  for (const Override& o : kOverrides) {
    if (!IsSet(flags, o) || (o.role != Role::kClosed && o.role != Role::kOpen)) continue;
    for (const char* key : o.role == Role::kClosed ? kOpenOnly : kClosedOnly) {
      doc->EraseMember(key);
    }
  }
  for (const Override& o : kOverrides) {
    if (!IsSet(flags, o)) continue;
    rapidjson::Value value = FlagValue(flags.*o.value, o.kind, alloc);
    auto it = doc->FindMember(o.key);
    if (it != doc->MemberEnd()) {
      it->value = value;
    } else {
      doc->AddMember(rapidjson::StringRef(o.key), value, alloc);
    }
  }
}

// Blames the flag when the offending value came from one: "--users", or
// "--env KEY" for $.env.KEY.
Status BlameFlag(const PlanFlags& flags, const Status& status) {
  for (const Override& o : kOverrides) {
    if (IsSet(flags, o) && status.path() == std::string("$.") + o.key) {
      return Status(status.code(), status.message(), o.flag);
    }
  }
  for (const std::string& flag : flags.env) {
    Result<std::pair<std::string, std::string>> pair = ParseEnvFlag(flag);
    if (pair.ok() && status.path() == JsonPathField("$.env", pair->first)) {
      return Status(status.code(), status.message(),
                    std::string(kEnvFlag) + " " + pair->first);
    }
  }
  return status;
}

// Sets each --label in $.labels (made when the plan has none); a plan whose
// labels are not an object keeps them, for ParsePlan to refuse.
void ApplyLabelFlags(const Labels& labels, rapidjson::Document* doc) {
  if (labels.empty() || !doc->IsObject()) return;
  auto& alloc = doc->GetAllocator();
  auto it = doc->FindMember("labels");
  if (it == doc->MemberEnd()) {
    doc->AddMember("labels", rapidjson::Value(rapidjson::kObjectType), alloc);
    it = doc->FindMember("labels");
  }
  if (!it->value.IsObject()) return;
  for (const auto& [key, value] : labels) {
    rapidjson::Value v(value.c_str(), static_cast<rapidjson::SizeType>(value.size()),
                       alloc);
    auto old = it->value.FindMember(key.c_str());
    if (old != it->value.MemberEnd()) {
      old->value = v;
    } else {
      it->value.AddMember(
          rapidjson::Value(key.c_str(), static_cast<rapidjson::SizeType>(key.size()),
                           alloc),
          v, alloc);
    }
  }
}

std::string Serialize(const rapidjson::Document& doc) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// Reads the plan document, or makes the quick one; sets *source.
Status LoadDocument(const PlanFlags& flags, Files* files, rapidjson::Document* doc,
                    std::string* source) {
  std::string file = flags.plan_file;
  if (file.empty() && files->Exists(kDefaultPlanFile)) file = kDefaultPlanFile;
  if (file.empty()) {
    if (flags.target.empty()) {
      return Status::Invalid(
          "PLAN", "no plan: give PLAN.json, put " + std::string(kDefaultPlanFile) +
                      " in the current directory, or use --target URL");
    }
    if (flags.users.empty() && flags.arrival_rate.empty()) {
      return Status::Invalid("",
                             "a plan built from flags needs --users N (closed model) or "
                             "--arrival-rate R (open model)");
    }
    *source = "flags";
    doc->SetObject();
    return Status::Ok();
  }
  *source = file;
  Result<std::string> text = files->Read(file, kMaxPlanFileBytes);
  if (!text.ok()) return text.status();
  Status parsed = ParseJson(*text, doc);
  if (!parsed.ok()) return Status::Invalid(file, parsed.message());
  return InlineDataFile(file, files, doc);
}

}  // namespace

Status InvalidPlan(const Status& cause) {
  return Status(cause.code(), "invalid plan: " + cause.ToString());
}

Result<ResolvedPlan> ResolvePlan(const PlanFlags& flags, Files* files) {
  // A malformed flag is the flag's fault whatever the plan holds.
  Status env_flags = CheckEnvFlags(flags.env);
  if (!env_flags.ok()) return InvalidPlan(env_flags);
  Labels labels;
  Status label_flags = ParseLabelArgs(flags.labels, "--label", &labels);
  if (!label_flags.ok()) return InvalidPlan(label_flags);
  ResolvedPlan resolved;
  rapidjson::Document doc;
  Status loaded = LoadDocument(flags, files, &doc, &resolved.source);
  if (!loaded.ok()) {
    return loaded.path() == "PLAN" ? loaded : InvalidPlan(loaded);
  }
  Status conflict = CheckConflicts(flags, doc);
  if (!conflict.ok()) return InvalidPlan(conflict);
  ApplyOverrides(flags, &doc);
  ApplyLabelFlags(labels, &doc);
  if (flags.no_queue && doc.IsObject()) {  // refused at once rather than queued
    doc.RemoveMember("queue");
    doc.AddMember("queue", false, doc.GetAllocator());
  }
  Status env = ApplyEnvFlags(flags.env, &doc);
  if (!env.ok()) return InvalidPlan(env);
  resolved.json = Serialize(doc);
  Result<Plan> plan = ParsePlan(resolved.json);
  if (!plan.ok()) return InvalidPlan(BlameFlag(flags, plan.status()));
  resolved.plan = std::move(*plan);
  return resolved;
}

}  // namespace loadd
