#include "ctl/run_view.h"

#include <algorithm>

namespace loadd {
namespace {

const LenientJsonReader kReader;

const rapidjson::Value* Member(const rapidjson::Value& object, const char* name) {
  return LenientJsonReader::Member(object, name);
}
std::string Str(const rapidjson::Value& object, const char* name) {
  return kReader.Str(object, name);
}
double Num(const rapidjson::Value& object, const char* name) {
  return kReader.Double(object, name);
}
int64_t Int(const rapidjson::Value& object, const char* name) {
  return kReader.Int(object, name);
}

Status Unexpected(const std::string& what) {
  return Status(StatusCode::kInternal, "unexpected answer from the coordinator: " + what);
}

LatencyView ParseLatency(const rapidjson::Value& json) {
  LatencySummary s;
  ReadJsonFields(&kReader, json, &s, LatencySummaryFields(), JsonDoc::kApi);
  LatencyView l;
  l.min_us = static_cast<double>(s.min_us);
  l.mean_us = s.mean_us;
  l.p50_us = static_cast<double>(s.p50_us);
  l.p90_us = static_cast<double>(s.p90_us);
  l.p95_us = static_cast<double>(s.p95_us);
  l.p99_us = static_cast<double>(s.p99_us);
  l.p999_us = static_cast<double>(s.p999_us);
  l.max_us = static_cast<double>(s.max_us);
  return l;
}

EndpointView ParseEndpoint(const rapidjson::Value& json) {
  EndpointRecord record;
  EndpointView e;
  ReadJsonFields(&kReader, json, &record, EndpointRecordFields(), JsonDoc::kApi,
                 [&](int hook, const char* name) {
                   if (hook == kEndpointLatency) e.latency = ParseLatency(json);
                   if (hook != kEndpointService) return;
                   const rapidjson::Value* service = Member(json, name);
                   if (service != nullptr && service->IsObject()) {
                     e.has_service = true;
                     e.service = ParseLatency(*service);
                   }
                 });
  e.name = std::move(record.name);
  e.requests = record.requests;
  e.failures = record.failures;
  e.rps = record.rps;
  e.bytes_in = record.bytes_in;
  // Not in the record: no coordinator writes it yet; an answer that has it
  // names the method apart from the name (csv_report.cc).
  e.method = Str(json, "method");
  return e;
}

void ParseTotals(const rapidjson::Value& json, RunView* run) {
  RunTotals totals;
  ReadJsonFields(&kReader, json, &totals, RunTotalsFields(), JsonDoc::kApi,
                 [&](int, const char* name) {
                   for (auto& [kind, count] : ReadErrorCountList(json, name)) {
                     if (count != 0) run->errors.emplace_back(std::move(kind), count);
                   }
                 });
  run->requests = totals.requests;
  run->failures = totals.failures;
  run->rps = totals.rps;
  run->dropped = totals.dropped;
}

const rapidjson::Value* Array(const rapidjson::Value& json, const char* name) {
  const rapidjson::Value* v = Member(json, name);
  return v != nullptr && v->IsArray() ? v : nullptr;
}

// The load model, from the run's (normalized) plan.
void ParsePlanSummary(const rapidjson::Value& plan, RunView* run) {
  run->expect_workers = Int(plan, "expect_workers");
  run->max_in_flight = Int(plan, "max_in_flight");
  if (Member(plan, "arrival_rate") != nullptr) {
    run->open_model = true;
    run->arrival_rate = Num(plan, "arrival_rate");
  }
  const rapidjson::Value* stages = Array(plan, "stages");
  if (stages == nullptr || stages->Empty() || Member((*stages)[0], "rate") == nullptr) {
    return;
  }
  run->open_model = true;
  run->arrival_rate = Num(plan, "start_rate");
  for (const rapidjson::Value& stage : stages->GetArray()) {
    run->arrival_rate = std::max(run->arrival_rate, Num(stage, "rate"));
  }
}

void ParseWorkers(const rapidjson::Value& workers, RunView* run) {
  run->workers = static_cast<int>(workers.Size());
  for (const rapidjson::Value& w : workers.GetArray()) {
    if (Str(w, "state") == "lost") {
      run->lost_workers.push_back({Str(w, "id"), Num(w, "lost_at_s")});
    }
  }
}

void ParseWarnings(const rapidjson::Value& warnings, RunView* run) {
  for (const rapidjson::Value& w : warnings.GetArray()) {
    std::string message = Str(w, "message");
    run->warnings.push_back(message.empty() ? Str(w, "kind") + " warning" : message);
  }
}

TimelineEntry ParseTimelineEntry(const rapidjson::Value& json) {
  TimelineEntry e;
  ReadJsonFields(&kReader, json, &e, RunSecondFields(), JsonDoc::kApi);
  return e;
}

void ParseTimeline(const rapidjson::Value& timeline, RunView* run) {
  if (timeline.Empty()) return;
  run->has_timeline_entry = true;
  run->last_timeline_rps = Num(timeline[timeline.Size() - 1], "rps");
  for (const rapidjson::Value& entry : timeline.GetArray()) {
    run->timeline.push_back(ParseTimelineEntry(entry));
  }
}

void ParseThresholds(const rapidjson::Value& json, RunView* run) {
  if (const rapidjson::Value* list = Array(json, "thresholds")) {
    for (const rapidjson::Value& t : list->GetArray()) {
      ThresholdView v;
      ReadJsonFields(&kReader, t, static_cast<ThresholdRecord*>(&v),
                     ThresholdRecordFields(), JsonDoc::kApi, [&](int, const char* name) {
                       const rapidjson::Value* actual = Member(t, name);
                       v.measured = actual != nullptr && actual->IsNumber();
                       v.actual = Num(t, name);
                     });
      ThresholdMeasure measure;
      if (ParseThresholdKey(v.key, "key", &measure).ok()) v.measure = std::move(measure);
      run->thresholds.push_back(std::move(v));
    }
  }
  const rapidjson::Value* verdict = Member(json, "thresholds_passed");
  if (verdict == nullptr) return;
  if (verdict->IsBool()) {
    run->thresholds_verdict =
        verdict->GetBool() ? ThresholdsVerdict::kPassed : ThresholdsVerdict::kFailed;
  } else {
    run->thresholds_verdict = ThresholdsVerdict::kUndecided;
  }
}

void ParseChecks(const rapidjson::Value& checks, RunView* run) {
  for (const rapidjson::Value& c : checks.GetArray()) {
    CheckView v;
    ReadJsonFields(&kReader, c, &v, CheckRecordFields(), JsonDoc::kApi);
    run->checks.push_back(std::move(v));
  }
}

}  // namespace

bool IsFinalState(std::string_view state) {
  return state == "finished" || state == "stopped" || state == "failed" ||
         state == "interrupted";
}

Status ParseRunView(const rapidjson::Value& json, RunView* run) {
  *run = RunView();
  run->id = Str(json, "id");
  run->state = Str(json, "state");
  run->queue_position = Int(json, "queue_position");
  if (run->id.empty() || run->state.empty()) {
    return Unexpected("a run without id or state");
  }
  run->name = Str(json, "name");
  run->message = Str(json, "message");
  RunEndRecord end;
  ReadJsonFields(&kReader, json, &end, RunEndFields(), JsonDoc::kApi);
  run->end_reason = EndReasonFromName(end.end_reason.value_or(""));
  run->end_reason_unknown = end.end_reason && !run->end_reason;
  run->aborted_by = end.aborted_by.value_or("");
  run->created_at = Str(json, "created_at");
  run->elapsed_s = Num(json, "elapsed_s");
  run->duration_s = Num(json, "duration_s");
  run->users = Int(json, "users");
  run->target_users = Int(json, "target_users");
  if (const rapidjson::Value* workers = Array(json, "workers"))
    ParseWorkers(*workers, run);
  if (const rapidjson::Value* totals = Member(json, "totals")) ParseTotals(*totals, run);
  if (const rapidjson::Value* warnings = Array(json, "warnings")) {
    ParseWarnings(*warnings, run);
  }
  if (const rapidjson::Value* events = Array(json, "events")) {
    for (const rapidjson::Value& e : events->GetArray()) {
      if (!e.IsObject()) continue;
      run->events.emplace_back();
      ReadJsonFields(&kReader, e, &run->events.back(), RunEventFields(), JsonDoc::kApi);
    }
  }
  if (const rapidjson::Value* plan = Member(json, "plan")) ParsePlanSummary(*plan, run);
  if (const rapidjson::Value* endpoints = Array(json, "endpoints")) {
    for (const rapidjson::Value& e : endpoints->GetArray()) {
      run->endpoints.push_back(ParseEndpoint(e));
    }
  }
  if (const rapidjson::Value* aggregated = Member(json, "aggregated")) {
    run->aggregated = ParseEndpoint(*aggregated);
  }
  run->aggregated.name = "Aggregated";
  if (const rapidjson::Value* timeline = Array(json, "timeline")) {
    ParseTimeline(*timeline, run);
  }
  ParseThresholds(json, run);
  if (const rapidjson::Value* checks = Array(json, "checks")) ParseChecks(*checks, run);
  return Status::Ok();
}

Labels ValidLabels(const rapidjson::Value& worker, const char* name);  // below

Status ParseRunList(const rapidjson::Value& json, std::vector<RunSummary>* runs) {
  runs->clear();
  const rapidjson::Value* list = Array(json, "runs");
  if (list == nullptr) return Unexpected("no \"runs\" array");
  for (const rapidjson::Value& r : list->GetArray()) {
    RunSummary s;
    ReadJsonFields(&kReader, r, &s, RunSummaryFields(), JsonDoc::kApi);
    s.labels = ValidLabels(r, "labels");  // a run's labels follow the same rules
    runs->push_back(std::move(s));
  }
  return Status::Ok();
}

// The worker's labels object `name`, keeping only what the label rules allow.
Labels ValidLabels(const rapidjson::Value& worker, const char* name) {
  Labels labels;
  if (!worker.IsObject()) return labels;
  auto it = worker.FindMember(name);
  if (it == worker.MemberEnd() || !it->value.IsObject()) return labels;
  for (const auto& m : it->value.GetObject()) {
    if (!m.value.IsString() || labels.size() >= kMaxLabels) continue;
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    std::string_view value(m.value.GetString(), m.value.GetStringLength());
    if (CheckLabelKey(key, "").ok() && CheckLabelValue(value, "").ok()) {
      labels.emplace(key, value);
    }
  }
  return labels;
}

Status ParseWorkerList(const rapidjson::Value& json, std::vector<WorkerView>* workers) {
  workers->clear();
  const rapidjson::Value* list = Array(json, "workers");
  if (list == nullptr) return Unexpected("no \"workers\" array");
  for (const rapidjson::Value& w : list->GetArray()) {
    WorkerView v;
    ReadJsonFields(&kReader, w, &v, FleetWorkerFields(), JsonDoc::kApi,
                   [&](int, const char* name) { v.labels = ValidLabels(w, name); });
    workers->push_back(std::move(v));
  }
  return Status::Ok();
}

}  // namespace loadd
