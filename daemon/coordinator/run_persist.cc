// Run::Snapshot and Run::Restore: a run as the run store keeps it.
//
// The state is one JSON document (format 1) with every field of the run but
// the closed seconds; those are one JSON record each. Histograms are
// HdrHistogram V2 compressed, base64. Times are kept as offsets from the
// run's creation (the monotonic clock means nothing to the next process),
// and doubles as C99 hex floats ("%a"), which read back bit for bit, so a
// restored run renders byte for byte what the saved one did.
#include <cstdio>
#include <functional>
#include <optional>

#include "common/clock.h"
#include "common/redact.h"
#include "daemon/coordinator/run.h"
#include "daemon/coordinator/stored_fields.h"

namespace loadd {
namespace {

constexpr int64_t kStateFormat = 1;

void WriteResult(JsonWriter* w, const ThresholdResult& r) {
  w->StartObject();
  WriteJsonFields(w, ThresholdRecordOf(r, nullptr), ThresholdRecordFields(),
                  JsonDoc::kStore);
  w->EndObject();
}

ThresholdResult ReadResult(FieldReader* r, const rapidjson::Value& v) {
  ThresholdRecord record;
  ReadJsonFields(r, v, &record, ThresholdRecordFields(), JsonDoc::kStore);
  return ThresholdResultOf(record);
}

void WriteWorker(JsonWriter* w, const RunWorker& rw) {
  w->StartObject();
  WriteJsonFields(w, rw, RunWorkerFields(), JsonDoc::kStore);
  w->EndObject();
}

RunWorker ReadWorker(FieldReader* r, const rapidjson::Value& v) {
  RunWorker rw;
  ReadJsonFields(r, v, &rw, RunWorkerFields(), JsonDoc::kStore);
  return rw;
}

// An endpoint's totals as the store keeps them (EndpointRecord).
void ReadTotals(FieldReader* r, const rapidjson::Value& v, EndpointTotals* e) {
  EndpointRecord record;
  ReadJsonFields(r, v, &record, EndpointRecordFields(), JsonDoc::kStore,
                 [&](int hook, const char* name) {
                   switch (hook) {
                     case kEndpointLatency:
                       r->Hist(v, name, &e->latency_us);
                       break;
                     case kEndpointService:
                       r->Hist(v, name, &e->service_us);
                       break;
                     case kEndpointErrors: {
                       const rapidjson::Value& errors = r->Object(v, name);
                       for (int i = 0; i < static_cast<int>(ErrorKind::kCount); ++i) {
                         e->errors[i] =
                             r->Int(errors, ErrorKindName(static_cast<ErrorKind>(i)));
                       }
                       break;
                     }
                   }
                 });
  e->name = record.name;
  e->requests = record.requests;
  e->failures = record.failures;
  e->bytes_in = record.bytes_in;
}

}  // namespace

void Run::WriteTotals(JsonWriter* w, const EndpointTotals& e,
                      EncodedTotals* cache) const {
  if (!cache->valid || cache->version != e.version) {
    cache->latency = e.latency_us.EncodeBase64();
    cache->service = e.service_us.EncodeBase64();
    cache->version = e.version;
    cache->valid = true;
  }
  EndpointRecord record{e.name, e.requests, e.failures, 0, e.bytes_in};
  w->StartObject();
  WriteJsonFields(w, record, EndpointRecordFields(), JsonDoc::kStore,
                  [&](JsonWriter* w, int hook, const char* name) {
                    switch (hook) {
                      case kEndpointLatency:
                        WriteField(w, name, cache->latency);
                        break;
                      case kEndpointService:
                        WriteField(w, name, cache->service);
                        break;
                      case kEndpointErrors:
                        WriteErrorCounts(w, name, e.errors, /*zeros=*/true);
                        break;
                    }
                  });
  w->EndObject();
}

void StatsMerger::WriteOpenSeconds(JsonWriter* w) const {
  w->Key("open_seconds");
  w->StartArray();
  for (const auto& [t, s] : open_seconds_) {
    w->StartObject();
    WriteField(w, "t", t);
    WriteField(w, "requests", s.requests);
    WriteField(w, "failures", s.failures);
    WriteField(w, "dropped", s.dropped);
    w->Key("users");
    w->StartArray();
    for (const auto& [worker, users] : s.users) {
      w->StartObject();
      WriteField(w, "worker", worker);
      WriteField(w, "users", users);
      w->EndObject();
    }
    w->EndArray();
    WriteField(w, "latency", SecondLatency(s).EncodeBase64());
    w->Key("endpoints");
    w->StartArray();
    for (const auto& [index, latency_us] : s.endpoint_latency_us) {
      w->StartObject();
      WriteSize(w, "index", index);
      WriteField(w, "latency", latency_us.EncodeBase64());
      w->EndObject();
    }
    w->EndArray();
    w->EndObject();
  }
  w->EndArray();
}

void StatsMerger::WriteSecond(JsonWriter* w, size_t i) const {
  w->StartObject();
  WriteSize(w, "i", i);
  WriteJsonFields(w, timeline_[i], RunSecondFields(), JsonDoc::kStore);
  w->Key("hlog");
  w->StartArray();
  for (size_t k = i == 0 ? 0 : hlog_end_[i - 1]; k < hlog_end_[i]; ++k) {
    IntervalLog::Interval e = hlog_.Get(k);
    w->StartObject();
    WriteField(w, "tag", e.tag);
    WriteField(w, "max_us", e.max_us);
    WriteField(w, "histogram", e.base64);
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
}

RunSnapshot Run::Snapshot(size_t first_second, int64_t now_ns) const {
  RunSnapshot snap;
  snap.summary = ToJson([&](JsonWriter* w) { WriteSummary(w); });
  const std::vector<EndpointTotals>& endpoints = stats_.endpoints();
  encoded_.resize(endpoints.size());
  snap.state = ToJson([&](JsonWriter* w) {
    w->StartObject();
    WriteField(w, "format", kStateFormat);
    WriteField(w, "id", id_);
    WriteField(w, "state", RunStateName(state_));
    WriteField(w, "message", message_);
    RunEndRecord end;
    if (end_reason_) end.end_reason = EndReasonName(*end_reason_);
    WriteJsonFields(w, end, RunEndFields(), JsonDoc::kStore);
    WriteField(w, "summary", snap.summary);
    WriteField(w, "created_epoch_ns", created_epoch_ns_);
    WriteField(w, "started_by", started_by_);
    WriteField(w, "saved_offset_ns", now_ns - created_ns_);
    WriteField(w, "start_offset_ns", start_ns_ - created_ns_);
    WriteBool(w, "ended", end_ns_ != 0);
    WriteField(w, "end_offset_ns", end_ns_ != 0 ? end_ns_ - created_ns_ : 0);
    WriteBool(w, "stop_requested", stop_requested_ns_ != 0);
    WriteField(w, "stop_offset_ns",
               stop_requested_ns_ != 0 ? stop_requested_ns_ - created_ns_ : 0);
    WriteSize(w, "seconds", stats_.timeline().size());
    WriteField(w, "hlog_dropped", stats_.hlog().dropped());
    WriteField(w, "dropped", stats_.dropped());
    // The store never holds the plan's secrets: a restarted coordinator does
    // not resume a run (it ends it as interrupted), so nothing needs them.
    w->Key("plan");
    w->RawValue(RedactedPlan().data(), RedactedPlan().size(), rapidjson::kObjectType);
    w->Key("workers");
    w->StartArray();
    for (const RunWorker& rw : workers_) WriteWorker(w, rw);
    w->EndArray();
    w->Key("endpoints");
    w->StartArray();
    for (size_t i = 0; i < endpoints.size(); ++i) {
      WriteTotals(w, endpoints[i], &encoded_[i]);
    }
    w->EndArray();
    w->Key("aggregated");
    WriteTotals(w, Aggregated(), &encoded_aggregated_);
    w->Key("cpu_warnings");
    w->StartArray();
    for (const CpuWarning& c : cpu_warnings_) {
      w->StartObject();
      WriteField(w, "worker", c.worker_id);
      WriteField(w, "from_s", c.from_s);
      WriteField(w, "to_s", c.to_s);
      WriteHex(w, "max_percent", c.max_percent);
      w->EndObject();
    }
    w->EndArray();
    WriteEvents(w, JsonDoc::kStore);
    WriteChecks(w, JsonDoc::kStore);
    stats_.WriteOpenSeconds(w);
    w->Key("results");
    w->StartArray();
    for (const ThresholdResult& r : results_) WriteResult(w, r);
    w->EndArray();
    WriteField(w, "aborted_index",
               aborted_index_ ? static_cast<int64_t>(*aborted_index_) : -1);
    w->Key("aborted_result");
    WriteResult(w, aborted_result_);
    w->EndObject();
  });
  for (size_t i = first_second; i < stats_.timeline().size(); ++i) {
    snap.seconds.push_back(ToJson([&](JsonWriter* w) { stats_.WriteSecond(w, i); }));
  }
  return snap;
}

Status StatsMerger::RestoreSecond(std::string_view record, size_t i) {
  rapidjson::Document doc;
  LOADD_RETURN_IF_ERROR(ParseJson(record, &doc, 8));
  FieldReader r;
  if (r.Int(doc, "i") != static_cast<int64_t>(i) && r.ok()) {
    return Status::Invalid(
        "i", "stored run: second record " + std::to_string(i) + " is out of order");
  }
  SecondSummary s;
  ReadJsonFields(&r, doc, &s, RunSecondFields(), JsonDoc::kStore);
  s.rps = s.requests;  // not stored: a second's requests per second
  for (const rapidjson::Value& e : r.Array(doc, "hlog").GetArray()) {
    std::string tag = r.Str(e, "tag");
    int64_t max_us = r.Int(e, "max_us");
    std::string base64 = r.Str(e, "histogram");
    if (!r.ok()) break;
    hlog_.AddEncoded(s.t, tag, max_us, std::move(base64));
  }
  if (!r.ok()) return r.status();
  timeline_.push_back(s);
  hlog_end_.push_back(hlog_.intervals());
  return Status::Ok();
}

Result<StoredRunHeader> Run::ReadHeader(std::string_view state) {
  rapidjson::Document doc;
  LOADD_RETURN_IF_ERROR(ParseJson(state, &doc, 64));
  FieldReader r;
  StoredRunHeader h;
  int64_t format = r.Int(doc, "format");
  if (r.ok() && format != kStateFormat) {
    return Status::Invalid("format", "stored run: format " + std::to_string(format) +
                                         " is not the one this coordinator reads (" +
                                         std::to_string(kStateFormat) + ")");
  }
  h.id = r.Str(doc, "id");
  h.summary = r.Str(doc, "summary");
  h.created_epoch_ns = r.Int(doc, "created_epoch_ns");
  std::optional<RunState> s = RunStateFromName(r.Str(doc, "state"));
  if (!r.ok()) return r.status();
  if (!s) return Status::Invalid("state", "stored run: unknown state");
  h.state = *s;
  auto plan = doc.FindMember("plan");
  h.plan_has_secrets = plan != doc.MemberEnd() && HasSecrets(plan->value);
  // The summary is listed verbatim (GET /v1/runs): it must be one object.
  rapidjson::Document summary;
  if (!ParseJson(h.summary, &summary, 8).ok() || !summary.IsObject()) {
    return Status::Invalid("summary",
                           "stored run: field \"summary\" is not a JSON object");
  }
  return h;
}

Result<std::unique_ptr<Run>> Run::Restore(std::string_view state,
                                          const std::vector<std::string>& seconds,
                                          int64_t now_ns) {
  Result<StoredRunHeader> header = ReadHeader(state);
  if (!header.ok()) return header.status();
  rapidjson::Document doc;
  LOADD_RETURN_IF_ERROR(ParseJson(state, &doc, 64));
  FieldReader r;
  std::unique_ptr<Run> run(new Run());
  run->id_ = header->id;
  run->state_ = header->state;
  run->created_epoch_ns_ = header->created_epoch_ns;
  run->message_ = r.Str(doc, "message");
  // Absent in runs stored before tokens had names.
  if (doc.HasMember("started_by")) run->started_by_ = r.Str(doc, "started_by");
  run->created_ns_ = now_ns - r.Int(doc, "saved_offset_ns");
  run->start_ns_ = run->created_ns_ + r.Int(doc, "start_offset_ns");
  if (r.Bool(doc, "ended")) run->end_ns_ = run->created_ns_ + r.Int(doc, "end_offset_ns");
  if (r.Bool(doc, "stop_requested")) {
    run->stop_requested_ns_ = run->created_ns_ + r.Int(doc, "stop_offset_ns");
  }
  const rapidjson::Value& plan = r.Object(doc, "plan");
  if (!r.ok()) return r.status();
  Result<Plan> parsed = PlanFromJson(plan);
  if (!parsed.ok()) {
    return Status::Invalid(
        "plan", "stored run: its plan no longer parses: " + parsed.status().ToString());
  }
  run->plan_ = std::move(*parsed);
  run->profile_ = run->plan_.Profile();
  // Absent in runs stored before live scaling; replayed, they give the
  // profile the workers followed.
  if (doc.HasMember("events")) {
    for (const rapidjson::Value& v : r.Array(doc, "events").GetArray()) {
      if (run->events_.size() >= kMaxEvents) r.Fail("events", "are more than the cap");
      if (!r.ok()) break;
      RunEvent e;
      ReadJsonFields(&r, v, &e, RunEventFields(), JsonDoc::kStore);
      run->AddScale(std::move(e));
    }
  }
  for (const rapidjson::Value& v : r.Array(doc, "workers").GetArray()) {
    run->workers_.push_back(ReadWorker(&r, v));
  }
  for (const rapidjson::Value& v : r.Array(doc, "cpu_warnings").GetArray()) {
    run->cpu_warnings_.push_back(CpuWarning{r.Str(v, "worker"), r.Int(v, "from_s"),
                                            r.Int(v, "to_s"), r.Hex(v, "max_percent")});
  }
  for (const rapidjson::Value& v : r.Array(doc, "results").GetArray()) {
    run->results_.push_back(ReadResult(&r, v));
  }
  int64_t aborted = r.Int(doc, "aborted_index");
  if (aborted >= 0) run->aborted_index_ = static_cast<size_t>(aborted);
  run->aborted_result_ = ReadResult(&r, r.Object(doc, "aborted_result"));
  run->ReadEndReason(&r, doc);
  LOADD_RETURN_IF_ERROR(run->stats_.Restore(&r, doc, seconds));
  if (!r.ok()) return r.status();
  return run;
}

Status StatsMerger::Restore(FieldReader* r, const rapidjson::Value& doc,
                            const std::vector<std::string>& seconds) {
  dropped_ = r->Int(doc, "dropped");
  for (const rapidjson::Value& v : r->Array(doc, "endpoints").GetArray()) {
    if (endpoints_.size() > kMaxEndpoints) r->Fail("endpoints", "are more than the cap");
    if (!r->ok()) break;
    endpoints_.emplace_back();
    ReadTotals(r, v, &endpoints_.back());
    endpoint_index_[endpoints_.back().name] = endpoints_.size() - 1;
  }
  ReadTotals(r, r->Object(doc, "aggregated"), &aggregated_);
  for (const rapidjson::Value& v : r->Array(doc, "checks").GetArray()) {
    CheckRecord c;
    ReadJsonFields(r, v, &c, CheckRecordFields(), JsonDoc::kStore);
    checks_[c.name] = CheckTotals{c.passed, c.failed};
  }
  int64_t closed = r->Int(doc, "seconds");
  if (!r->ok()) return r->status();
  if (closed != static_cast<int64_t>(seconds.size())) {
    return Status::Invalid("seconds", "stored run: its state counts " +
                                          std::to_string(closed) + " closed seconds, " +
                                          std::to_string(seconds.size()) + " are stored");
  }
  for (size_t i = 0; i < seconds.size(); ++i) {
    LOADD_RETURN_IF_ERROR(RestoreSecond(seconds[i], i));
  }
  hlog_.RestoreDropped(r->Int(doc, "hlog_dropped"));
  RestoreOpenSeconds(r, doc);
  return r->status();
}

void StatsMerger::RestoreOpenSeconds(FieldReader* r, const rapidjson::Value& doc) {
  for (const rapidjson::Value& v : r->Array(doc, "open_seconds").GetArray()) {
    OpenSecond& s = open_seconds_[r->Int(v, "t")];
    s.requests = r->Int(v, "requests");
    s.failures = r->Int(v, "failures");
    s.dropped = r->Int(v, "dropped");
    for (const rapidjson::Value& u : r->Array(v, "users").GetArray()) {
      s.users[r->Str(u, "worker")] = r->Int(u, "users");
    }
    // The sum of the endpoints' below (SecondLatency): checked, not kept.
    HdrHistogram all = HdrHistogram::ForLatencyMicros();
    r->Hist(v, "latency", &all);
    for (const rapidjson::Value& e : r->Array(v, "endpoints").GetArray()) {
      int64_t index = r->Int(e, "index");
      if (r->ok() && (index < 0 || index >= static_cast<int64_t>(endpoints_.size()))) {
        r->Fail("index", "names no endpoint");
      }
      if (!r->ok()) break;
      HdrHistogram h = HdrHistogram::ForLatencyMicros();
      r->Hist(e, "latency", &h);
      s.endpoint_latency_us.emplace(static_cast<size_t>(index), std::move(h));
    }
  }
}

void Run::ReadEndReason(FieldReader* r, const rapidjson::Value& doc) {
  if (doc.IsObject() && doc.HasMember("end_reason")) {
    RunEndRecord end;
    ReadJsonFields(r, doc, &end, RunEndFields(), JsonDoc::kStore);
    if (!end.end_reason || !r->ok()) return;  // still active when stored
    std::optional<EndReason> reason = EndReasonFromName(*end.end_reason);
    if (!reason) {
      r->Fail("end_reason", "is not an end reason this coordinator knows");
      return;
    }
    end_reason_ = reason;
  } else if (IsFinal(state_)) {
    end_reason_ = DerivedEndReason();  // stored before end_reason existed
  }
}

void Run::Interrupt(int64_t at_ns) {
  char why[200];
  int64_t run_ms = RunTimeMs(at_ns);
  if (run_ms > 0 && (state_ == RunState::kRunning || state_ == RunState::kStopping)) {
    std::snprintf(why, sizeof why,
                  "the coordinator stopped while the run was %s; its statistics up to "
                  "%.1fs of run time are kept",
                  RunStateName(state_), static_cast<double>(run_ms) / 1000);
  } else {
    std::snprintf(why, sizeof why,
                  "the coordinator stopped while the run was %s, before load began",
                  RunStateName(state_));
  }
  for (RunWorker& w : workers_) {
    if (!w.final && !w.lost) w.users_now = 0;
  }
  std::string message = why;
  if (!message_.empty()) message += "; " + message_;
  End(EndReason::kInterrupted, at_ns, message);
}

}  // namespace loadd
