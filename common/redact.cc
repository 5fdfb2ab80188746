#include "common/redact.h"

#include <strings.h>

#include <vector>

#include "common/plan.h"

namespace loadd {
namespace {

std::vector<std::string_view> Segments(std::string_view pattern) {
  std::vector<std::string_view> out;
  while (!pattern.empty()) {
    size_t dot = pattern.find('.');
    out.push_back(pattern.substr(0, dot));
    pattern = dot == std::string_view::npos ? "" : pattern.substr(dot + 1);
  }
  return out;
}

bool NameIs(const rapidjson::Value& name, std::string_view segment) {
  return segment == "*" ||
         (name.GetStringLength() == segment.size() &&
          strncasecmp(name.GetString(), segment.data(), segment.size()) == 0);
}

// Calls visit(value, json_path) for each value the pattern's segments from
// i on reach under v. V is rapidjson::Value or const rapidjson::Value.
template <typename V, typename Visit>
void Walk(V& v, const std::vector<std::string_view>& segments, size_t i,
          const std::string& path, const Visit& visit) {
  if (i == segments.size()) {
    visit(v, path);
    return;
  }
  std::string_view segment = segments[i];
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      if (!NameIs(it->name, segment)) continue;
      Walk(it->value, segments, i + 1,
           JsonPathField(
               path, std::string_view(it->name.GetString(), it->name.GetStringLength())),
           visit);
    }
  } else if (v.IsArray() && segment == "*") {
    for (rapidjson::SizeType k = 0; k < v.Size(); ++k) {
      Walk(v[k], segments, i + 1, JsonPathIndex(path, k), visit);
    }
  }
}

template <typename V, typename Visit>
void ForEachSecret(V& plan, const Visit& visit) {
  for (std::string_view pattern : kSecretPaths) {
    Walk(plan, Segments(pattern), 0, "$", visit);
  }
}

bool IsPublic(const rapidjson::Value& v) {
  if (!v.IsObject()) return false;
  auto it = v.FindMember("public");
  return it != v.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

bool IsRedactedText(const rapidjson::Value& v) {
  return v.IsString() &&
         std::string_view(v.GetString(), v.GetStringLength()) == kRedacted;
}

}  // namespace

void RedactPlan(rapidjson::Value* plan, rapidjson::Document::AllocatorType* alloc) {
  ForEachSecret(*plan, [&](rapidjson::Value& v, const std::string&) {
    if (!IsPublic(v)) v.SetString(kRedacted.data(), kRedacted.size(), *alloc);
  });
}

std::string RedactedPlanJson(const Plan& plan) {
  rapidjson::Document doc;
  // The normalized plan nests a step's JSON body a few levels below where
  // the parser met it, so the bound is looser than ParsePlan's.
  if (!ParseJson(PlanToJson(plan), &doc, 256).ok()) {
    return "{}";  // cannot happen (PlanToJson writes JSON); fail closed if it does
  }
  RedactPlan(&doc, &doc.GetAllocator());
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

bool HasSecrets(const rapidjson::Value& plan) {
  bool found = false;
  ForEachSecret(plan, [&](const rapidjson::Value& v, const std::string&) {
    found = found || (!IsPublic(v) && !IsRedactedText(v));
  });
  return found;
}

Status RefuseRedacted(const rapidjson::Value& plan) {
  Status status;
  ForEachSecret(plan, [&](const rapidjson::Value& v, const std::string& path) {
    if (!status.ok() || IsPublic(v)) return;
    bool redacted = IsRedactedText(v);
    if (v.IsObject()) {
      auto value = v.FindMember("value");
      redacted = value != v.MemberEnd() && IsRedactedText(value->value);
    }
    if (redacted) {
      status = Status::Invalid(
          path,
          "is \"(redacted)\": a run's plan as the coordinator shows it hides its "
          "secrets; give the secret itself (env values: loadctl start --env "
          "NAME=VALUE)");
    }
  });
  return status;
}

}  // namespace loadd
