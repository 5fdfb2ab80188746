#include "daemon/coordinator/compare_view.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include "common/hdr_histogram.h"
#include "common/json.h"
#include "common/plan.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/hlog.h"

namespace loadd {
namespace {

// The most units of seconds a run is read in (RunSamplesFrom).
constexpr int64_t kMaxReadUnits = 600;

Result<double> NumberParam(const QueryLookup& query, const char* name, double low,
                           double high, double fallback) {
  std::optional<std::string> text = query(name);
  if (!text) return fallback;
  char* end = nullptr;
  double value = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size() || !std::isfinite(value) ||
      value < low || value > high) {
    char range[96];
    std::snprintf(range, sizeof range, "a number from %g to %g", low, high);
    return Status::Invalid(name, std::string("query parameter ") + name + " must be " +
                                     range + ", got \"" + text->substr(0, 40) + "\"");
  }
  return value;
}

Result<std::string> RunParam(const QueryLookup& query, const char* name) {
  std::optional<std::string> id = query(name);
  if (!id || id->empty()) {
    return Status::Invalid(name, std::string("query parameter ") + name +
                                     " is required: a run id such as r1700000000-3f2a");
  }
  return *id;
}

// "Tag=T,start,length,max,base64" lines; everything else is skipped.
struct HlogLine {
  std::string tag;
  int64_t t = 0;
  std::string base64;
};
std::vector<HlogLine> HlogLines(const std::string& hlog) {
  std::vector<HlogLine> out;
  size_t pos = 0;
  while (pos < hlog.size()) {
    size_t end = hlog.find('\n', pos);
    if (end == std::string::npos) end = hlog.size();
    std::string_view line(hlog.data() + pos, end - pos);
    pos = end + 1;
    if (!line.starts_with("Tag=")) continue;
    size_t c1 = line.find(','), c2 = line.find(',', c1 + 1);
    size_t c3 = line.find(',', c2 + 1), c4 = line.find(',', c3 + 1);
    if (c4 == std::string_view::npos) continue;
    HlogLine l;
    l.tag = std::string(line.substr(4, c1 - 4));
    double start =
        std::strtod(std::string(line.substr(c1 + 1, c2 - c1 - 1)).c_str(), nullptr);
    l.t = std::llround(start);
    l.base64 = std::string(line.substr(c4 + 1));
    out.push_back(std::move(l));
  }
  return out;
}

std::string StringAt(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}
int64_t IntAt(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

Status FactsFrom(const rapidjson::Document& doc, RunFacts* f) {
  f->id = StringAt(doc, "id");
  f->name = StringAt(doc, "name");
  f->state = StringAt(doc, "state");
  auto plan_it = doc.FindMember("plan");
  if (plan_it == doc.MemberEnd() || !plan_it->value.IsObject()) {
    return Status(StatusCode::kInternal, "run " + f->id + " has no plan");
  }
  f->plan_json = ToJson([&](JsonWriter* w) { plan_it->value.Accept(*w); });
  Result<Plan> plan = PlanFromJson(plan_it->value);
  if (!plan.ok()) return plan.status();
  f->model = plan->model == LoadModel::kOpen ? "open" : "closed";
  f->users = plan->users;
  f->arrival_rate = plan->model == LoadModel::kOpen ? plan->Profile().Peak() : 0;
  f->duration_s = static_cast<double>(plan->duration_ns) / 1e9;
  auto [from, to] = SteadyWindow(*plan, &f->plateau);
  f->steady_from_s = from;
  f->steady_to_s = to;
  auto workers = doc.FindMember("workers");
  if (workers != doc.MemberEnd() && workers->value.IsArray()) {
    f->workers = workers->value.Size();
  }
  auto warnings = doc.FindMember("warnings");
  if (warnings != doc.MemberEnd() && warnings->value.IsArray()) {
    for (const auto& w : warnings->value.GetArray()) {
      if (w.IsObject()) f->warnings.push_back(StringAt(w, "message"));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CompareRequest> ParseCompareQuery(const QueryLookup& query) {
  CompareRequest out;
  Result<std::string> base = RunParam(query, "base");
  if (!base.ok()) return base.status();
  Result<std::string> candidate = RunParam(query, "candidate");
  if (!candidate.ok()) return candidate.status();
  out.base = *base;
  out.candidate = *candidate;
  Result<double> min_change =
      NumberParam(query, "min_change", 0, 1000, out.options.min_change_pct);
  if (!min_change.ok()) return min_change.status();
  out.options.min_change_pct = *min_change;
  Result<double> alpha = NumberParam(query, "alpha", 1e-9, 0.5, out.options.alpha);
  if (!alpha.ok()) return alpha.status();
  out.options.alpha = *alpha;
  if (std::optional<std::string> ramp = query("include_ramp")) {
    if (*ramp == "1" || *ramp == "true") {
      out.options.include_ramp = true;
    } else if (*ramp != "0" && *ramp != "false") {
      return Status::Invalid("include_ramp",
                             "query parameter include_ramp must be true, false, 1 or 0");
    }
  }
  return out;
}

Result<RunSamples> RunSamplesFrom(const std::string& run_json, const std::string& hlog) {
  rapidjson::Document doc;
  LOADD_RETURN_IF_ERROR(ParseJson(run_json, &doc, 256));
  RunSamples run;
  LOADD_RETURN_IF_ERROR(FactsFrom(doc, &run.facts));
  // Endpoint names by their log tag.
  std::map<std::string, std::string> names;
  auto endpoints = doc.FindMember("endpoints");
  if (endpoints != doc.MemberEnd() && endpoints->value.IsArray()) {
    for (const auto& e : endpoints->value.GetArray()) {
      std::string name = StringAt(e, "name");
      names.emplace(HlogTag(name), name);
      run.totals[name] = {IntAt(e, "requests"), IntAt(e, "failures")};
    }
  }
  // A long run is read in units of consecutive seconds (never across the
  // steady window's edges), so what is decoded stays bounded (kMaxReadUnits
  // units per endpoint) however long the run was.
  auto timeline = doc.FindMember("timeline");
  if (timeline == doc.MemberEnd() || !timeline->value.IsArray()) return run;
  const int64_t n = timeline->value.Size();
  const int64_t per_unit = std::max<int64_t>(1, (n + kMaxReadUnits - 1) / kMaxReadUnits);
  const int64_t from = run.facts.steady_from_s, to = run.facts.steady_to_s;
  auto unit_of = [&](int64_t t) {
    int64_t start = t < from ? 0 : t < to ? from : to;
    return start + (t - start) / per_unit * per_unit;
  };
  std::map<std::string, std::map<int64_t, Buckets>> by_endpoint;
  for (const HlogLine& line : HlogLines(hlog)) {
    auto name = names.find(line.tag);
    if (name == names.end()) continue;
    Result<HdrHistogram> h = HdrHistogram::DecodeBase64(line.base64);
    if (!h.ok()) {
      return Status(StatusCode::kInternal,
                    "run " + run.facts.id +
                        ": a histogram of its log is damaged: " + h.status().message());
    }
    Buckets second;
    h->ForEachBucket(
        [&](int64_t value, int64_t count) { second.emplace_back(value, count); });
    Buckets& unit = by_endpoint[name->second][unit_of(line.t)];
    const Buckets* parts[] = {&unit, &second};
    unit = MergeBuckets(parts);
  }
  std::map<int64_t, Second> units;  // by their first second
  for (const auto& s : timeline->value.GetArray()) {
    int64_t t = IntAt(s, "t");
    auto [it, added] = units.try_emplace(unit_of(t));
    Second& unit = it->second;
    if (added) {
      unit.t = it->first;
      unit.seconds = 0;
    }
    ++unit.seconds;
    unit.requests += IntAt(s, "requests");
    unit.failures += IntAt(s, "failures");
  }
  for (auto& [t, unit] : units) {
    std::vector<const Buckets*> parts;
    for (auto& [name, endpoint_units] : by_endpoint) {
      Second e;
      e.t = t;
      e.seconds = unit.seconds;
      auto it = endpoint_units.find(t);
      if (it != endpoint_units.end()) {
        e.latency_us = it->second;
        parts.push_back(&it->second);
      }
      e.requests = TotalCount(e.latency_us);
      run.endpoints[name].push_back(std::move(e));
    }
    unit.latency_us = MergeBuckets(parts);
    run.aggregate.push_back(std::move(unit));
  }
  return run;
}

Result<std::string> CompareRunsJson(Coordinator* coordinator,
                                    const CompareRequest& request) {
  RunSamples runs[2];
  const std::string* ids[] = {&request.base, &request.candidate};
  for (int i = 0; i < 2; ++i) {
    Result<std::string> run = coordinator->GetRun(*ids[i], /*timeline=*/true);
    if (!run.ok()) {
      return Status(run.status().code(), run.status().message(),
                    i == 0 ? "base" : "candidate");
    }
    Result<std::string> hlog = coordinator->GetRunHlog(*ids[i]);
    if (!hlog.ok()) return hlog.status();
    Result<RunSamples> samples = RunSamplesFrom(*run, *hlog);
    if (!samples.ok()) return samples.status();
    runs[i] = std::move(*samples);
  }
  CompareResult result = CompareRuns(runs[0], runs[1], request.options);
  return ToJson([&](JsonWriter* w) { WriteCompare(result, w); });
}

}  // namespace loadd
