#include "ctl/plan_source.h"

#include <rapidjson/document.h>

#include <cstdlib>

#include "common/json.h"
#include "common/units.h"

namespace loadd {
namespace {

enum class Kind { kCount, kNumber, kString };

// One flag that overrides one top-level plan field.
struct Override {
  const char* flag;
  const char* key;
  std::string PlanFlags::*value;
  Kind kind;
};

constexpr Override kOverrides[] = {
    {"--users", "users", &PlanFlags::users, Kind::kCount},
    {"--spawn-rate", "spawn_rate", &PlanFlags::spawn_rate, Kind::kNumber},
    {"--duration", "duration", &PlanFlags::duration, Kind::kString},
    {"--timeout", "timeout", &PlanFlags::timeout, Kind::kString},
    {"--name", "name", &PlanFlags::name, Kind::kString},
    {"--target", "target", &PlanFlags::target, Kind::kString},
};

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

void ApplyOverrides(const PlanFlags& flags, rapidjson::Document* doc) {
  if (!doc->IsObject()) return;  // ParsePlan reports it
  auto& alloc = doc->GetAllocator();
  for (const Override& o : kOverrides) {
    const std::string& text = flags.*o.value;
    if (text.empty()) continue;
    doc->RemoveMember(o.key);
    doc->AddMember(rapidjson::StringRef(o.key), FlagValue(text, o.kind, alloc), alloc);
  }
}

// Blames the flag when the offending value came from one.
Status BlameFlag(const PlanFlags& flags, const Status& status) {
  for (const Override& o : kOverrides) {
    if (!(flags.*o.value).empty() && status.path() == std::string("$.") + o.key) {
      return Status(status.code(), status.message(), o.flag);
    }
  }
  return status;
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
    if (flags.users.empty()) {
      return Status::Invalid("--users", "is required for a plan built from flags");
    }
    *source = "flags";
    doc->SetObject();
    return Status::Ok();
  }
  *source = file;
  Result<std::string> text = files->Read(file);
  if (!text.ok()) return text.status();
  Status parsed = ParseJson(*text, doc);
  if (!parsed.ok()) return Status::Invalid(file, parsed.message());
  return Status::Ok();
}

}  // namespace

Status InvalidPlan(const Status& cause) {
  return Status(cause.code(), "invalid plan: " + cause.ToString());
}

Result<ResolvedPlan> ResolvePlan(const PlanFlags& flags, Files* files) {
  ResolvedPlan resolved;
  rapidjson::Document doc;
  Status loaded = LoadDocument(flags, files, &doc, &resolved.source);
  if (!loaded.ok()) {
    return loaded.path() == "PLAN" ? loaded : InvalidPlan(loaded);
  }
  ApplyOverrides(flags, &doc);
  resolved.json = Serialize(doc);
  Result<Plan> plan = ParsePlan(resolved.json);
  if (!plan.ok()) return InvalidPlan(BlameFlag(flags, plan.status()));
  resolved.plan = std::move(*plan);
  return resolved;
}

}  // namespace loadd
