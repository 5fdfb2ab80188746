#include "common/compare/comparability.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/json.h"

namespace loadd {
namespace {

// A value as a short text for a message.
std::string Shown(const rapidjson::Value* value) {
  if (value == nullptr) return "(absent)";
  std::string text = ToJson([&](JsonWriter* w) { value->Accept(*w); });
  constexpr size_t kMaxShown = 60;
  if (text.size() > kMaxShown) text = text.substr(0, kMaxShown) + "...";
  return text;
}

void Diff(const std::string& path, const rapidjson::Value* a, const rapidjson::Value* b,
          size_t limit, std::vector<std::string>* out) {
  if (out->size() >= limit) return;
  if (a != nullptr && b != nullptr && a->IsObject() && b->IsObject()) {
    for (auto it = a->MemberBegin(); it != a->MemberEnd(); ++it) {
      auto other = b->FindMember(it->name);
      Diff(JsonPathField(path, it->name.GetString()), &it->value,
           other == b->MemberEnd() ? nullptr : &other->value, limit, out);
    }
    for (auto it = b->MemberBegin(); it != b->MemberEnd(); ++it) {
      if (!a->HasMember(it->name)) {
        Diff(JsonPathField(path, it->name.GetString()), nullptr, &it->value, limit, out);
      }
    }
    return;
  }
  if (a != nullptr && b != nullptr && a->IsArray() && b->IsArray()) {
    rapidjson::SizeType n = std::max(a->Size(), b->Size());
    for (rapidjson::SizeType i = 0; i < n; ++i) {
      Diff(JsonPathIndex(path, i), i < a->Size() ? &(*a)[i] : nullptr,
           i < b->Size() ? &(*b)[i] : nullptr, limit, out);
    }
    return;
  }
  if (a != nullptr && b != nullptr && *a == *b) return;
  out->push_back(path + " " + Shown(a) + " vs " + Shown(b));
}

std::string Number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

void PushIf(bool differs, const char* kind, std::string message,
            std::vector<CompareWarning>* out) {
  if (differs) out->push_back({kind, std::move(message)});
}

double ErrorRate(const Series& series) {
  int64_t requests = 0, failures = 0;
  for (const Second& s : series) requests += s.requests, failures += s.failures;
  return requests == 0 ? 0
                       : static_cast<double>(failures) / static_cast<double>(requests);
}

}  // namespace

std::vector<std::string> JsonDifferences(const std::string& base_json,
                                         const std::string& candidate_json,
                                         const std::vector<std::string>& skip,
                                         size_t limit) {
  rapidjson::Document a, b;
  std::vector<std::string> out;
  if (!ParseJson(base_json, &a).ok() || !ParseJson(candidate_json, &b).ok()) {
    if (base_json != candidate_json) out.push_back("$ (a plan could not be read)");
    return out;
  }
  for (const std::string& key : skip) {
    if (a.IsObject()) a.RemoveMember(key.c_str());
    if (b.IsObject()) b.RemoveMember(key.c_str());
  }
  Diff("$", &a, &b, limit, &out);
  return out;
}

std::vector<CompareWarning> ComparabilityWarnings(const RunSamples& base,
                                                  const RunSamples& candidate,
                                                  const CompareOptions& options) {
  const RunFacts &b = base.facts, &c = candidate.facts;
  std::vector<CompareWarning> out;
  for (const RunFacts* f : {&b, &c}) {
    PushIf(f->state != "finished", "state",
           "run " + f->id + " is " + f->state + ", not finished: its data is partial",
           &out);
  }
  for (const RunFacts* f : {&b, &c}) {
    for (const std::string& warning : f->warnings) {
      out.push_back({"run", "run " + f->id + ": " + warning});
    }
  }
  PushIf(b.name != c.name, "plan",
         "different plans: base \"" + b.name + "\", candidate \"" + c.name + "\"", &out);
  // Load and name are warned about on their own; labels differ by design.
  std::vector<std::string> differences = JsonDifferences(
      b.plan_json, c.plan_json, {"name", "labels", "users", "arrival_rate", "duration"},
      kMaxPlanDifferences + 1);
  if (!differences.empty()) {
    std::string message = "the plans differ at ";
    for (size_t i = 0; i < std::min(differences.size(), kMaxPlanDifferences); ++i) {
      message += (i ? "; " : "") + differences[i];
    }
    if (differences.size() > kMaxPlanDifferences) message += "; and more";
    out.push_back({"plan", message});
  }
  PushIf(b.model != c.model, "load",
         "different load models: base " + b.model + ", candidate " + c.model, &out);
  PushIf(b.users != c.users, "load",
         "different user counts: base " + std::to_string(b.users) + ", candidate " +
             std::to_string(c.users),
         &out);
  PushIf(b.arrival_rate != c.arrival_rate, "load",
         "different arrival rates: base " + Number(b.arrival_rate) + "/s, candidate " +
             Number(c.arrival_rate) + "/s",
         &out);
  PushIf(b.workers != c.workers, "workers",
         "different worker counts: base " + std::to_string(b.workers) + ", candidate " +
             std::to_string(c.workers),
         &out);
  PushIf(b.duration_s != c.duration_s, "duration",
         "different durations: base " + Number(b.duration_s) + "s, candidate " +
             Number(c.duration_s) + "s",
         &out);
  for (const RunFacts* f : {&b, &c}) {
    PushIf(!f->plateau && !options.include_ramp, "ramp",
           "run " + f->id +
               "'s load never holds at its peak for a whole second: every second is "
               "compared, ramps included",
           &out);
  }
  for (const RunSamples* run : {&base, &candidate}) {
    double rate = ErrorRate(run->aggregate);
    PushIf(rate > options.error_rate_warning, "errors",
           "errors dominate run " + run->facts.id + ": " +
               Number(std::round(rate * 1000) / 10) +
               "% of its requests failed, so its latencies describe mostly failures",
           &out);
  }
  return out;
}

}  // namespace loadd
