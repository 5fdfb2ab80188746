#include "common/run_records.h"

namespace loadd {

// Rows in the order REST writes them.
std::span<const JsonField<RunSecond>> RunSecondFields() {
  using S = RunSecond;
  static const JsonField<S> kFields[] = {
      {"t", "t", &S::t},
      {"users", "users", &S::users},
      {"requests", "requests", &S::requests},
      {"failures", "failures", &S::failures},
      {"rps", nullptr, &S::rps},
      {"p50_us", "p50_us", &S::p50_us},
      {"p95_us", "p95_us", &S::p95_us},
      {"p99_us", "p99_us", &S::p99_us},
      {"max_us", "max_us", &S::max_us},
      {"dropped", "dropped", &S::dropped},
      {"workers", "workers", &S::workers},
  };
  return kFields;
}

std::span<const JsonField<RunSummary>> RunSummaryFields() {
  using S = RunSummary;
  static const JsonField<S> kFields[] = {
      {"id", nullptr, &S::id},
      {"name", nullptr, &S::name},
      {"state", nullptr, &S::state},
      {"created_at", nullptr, &S::created_at},
      // Absent from coordinators older than named tokens (tokens.h).
      {"started_by", nullptr, &S::started_by, /*optional=*/true},
      {"users", nullptr, &S::users},
      {"duration_s", nullptr, &S::duration_s},
      {"requests", nullptr, &S::requests},
      {"warnings", nullptr, &S::warnings},
      {"failures", nullptr, &S::failures},
      {"thresholds_passed", nullptr, &S::thresholds_passed},
  };
  return kFields;
}

std::span<const JsonField<RunEndRecord>> RunEndFields() {
  using S = RunEndRecord;
  static const JsonField<S> kFields[] = {
      // Absent from runs stored before it existed.
      {"end_reason", "end_reason", &S::end_reason, /*optional=*/true},
      {"aborted_by", nullptr, &S::aborted_by},
  };
  return kFields;
}

std::span<const JsonField<CheckRecord>> CheckRecordFields() {
  using S = CheckRecord;
  static const JsonField<S> kFields[] = {
      {"name", "name", &S::name},
      {"passed", "passed", &S::passed},
      {"failed", "failed", &S::failed},
  };
  return kFields;
}

std::span<const JsonField<ThresholdRecord>> ThresholdRecordFields() {
  using S = ThresholdRecord;
  static const JsonField<S> kFields[] = {
      {"key", nullptr, &S::key},
      {"condition", nullptr, &S::condition},
      {nullptr, "measured", &S::measured},
      {"actual", nullptr, JsonHook{kThresholdActual}},
      {nullptr, "actual", &S::actual},
      {"passed", "passed", &S::passed},
      {"message", "message", &S::message},
  };
  return kFields;
}

void WriteErrorCounts(JsonWriter* w, const char* name, const ErrorCounts& errors,
                      bool zeros) {
  w->Key(name);
  w->StartObject();
  for (int i = 0; i < static_cast<int>(ErrorKind::kCount); ++i) {
    if (!zeros && errors[i] == 0) continue;
    WriteField(w, ErrorKindName(static_cast<ErrorKind>(i)), errors[i]);
  }
  w->EndObject();
}

ErrorCountList ReadErrorCountList(const rapidjson::Value& object, const char* name) {
  ErrorCountList list;
  const rapidjson::Value* errors = LenientJsonReader::Member(object, name);
  if (errors == nullptr || !errors->IsObject()) return list;
  for (auto it = errors->MemberBegin(); it != errors->MemberEnd(); ++it) {
    list.emplace_back(it->name.GetString(),
                      it->value.IsInt64() ? it->value.GetInt64() : 0);
  }
  return list;
}

std::span<const JsonField<RunTotals>> RunTotalsFields() {
  using S = RunTotals;
  static const JsonField<S> kFields[] = {
      {"requests", nullptr, &S::requests},
      {"failures", nullptr, &S::failures},
      {"rps", nullptr, &S::rps},
      {"dropped", nullptr, &S::dropped},
      {"errors", nullptr, JsonHook{kTotalsErrors}},
  };
  return kFields;
}

std::span<const JsonField<FleetWorkerRow>> FleetWorkerFields() {
  using S = FleetWorkerRow;
  static const JsonField<S> kFields[] = {
      {"id", nullptr, &S::id},
      {"host", nullptr, &S::host},
      {"instance", nullptr, &S::instance},
      {"cpu", nullptr, &S::cpu},
      {"cores", nullptr, &S::cores},
      {"version", nullptr, &S::version},
      {"pid", nullptr, &S::pid},
      {"labels", nullptr, JsonHook{kFleetWorkerLabels}},
      {"state", nullptr, &S::state},
      {"run_id", nullptr, &S::run_id},
      {"users", nullptr, &S::users},
      {"cpu_percent", nullptr, &S::cpu_percent},
      {"last_seen_ms", nullptr, &S::last_seen_ms},
      {"connected_s", nullptr, &S::connected_s},
  };
  return kFields;
}

std::span<const JsonField<LatencySummary>> LatencySummaryFields() {
  using S = LatencySummary;
  static const JsonField<S> kFields[] = {
      {"min_us", nullptr, &S::min_us},
      {"mean_us", nullptr, &S::mean_us},
      {"stddev_us", nullptr, JsonHook{kLatencyStddev}},
      {"p50_us", nullptr, &S::p50_us},
      {"p90_us", nullptr, &S::p90_us},
      {"p95_us", nullptr, &S::p95_us},
      {"p99_us", nullptr, &S::p99_us},
      {"p999_us", nullptr, &S::p999_us},
      {"max_us", nullptr, &S::max_us},
  };
  return kFields;
}

LatencySummary LatencySummaryOf(const HdrHistogram& h) {
  LatencySummary s;
  s.min_us = h.Min();
  s.mean_us = h.Mean();
  s.p50_us = h.ValueAtPercentile(50);
  s.p90_us = h.ValueAtPercentile(90);
  s.p95_us = h.ValueAtPercentile(95);
  s.p99_us = h.ValueAtPercentile(99);
  s.p999_us = h.ValueAtPercentile(99.9);
  s.max_us = h.Max();
  return s;
}

std::span<const JsonField<EndpointRecord>> EndpointRecordFields() {
  using S = EndpointRecord;
  static const JsonField<S> kFields[] = {
      {"name", "name", &S::name},
      {"requests", "requests", &S::requests},
      {"failures", "failures", &S::failures},
      {"rps", nullptr, &S::rps},
      {"bytes_in", "bytes_in", &S::bytes_in},
      {"latency", nullptr, JsonHook{kEndpointLatency}},
      {"errors", "errors", JsonHook{kEndpointErrors}},
      {nullptr, "latency", JsonHook{kEndpointLatency}},
      {"service", "service", JsonHook{kEndpointService}},
  };
  return kFields;
}

std::span<const JsonField<RunEvent>> RunEventFields() {
  using S = RunEvent;
  static const JsonField<S> kFields[] = {
      {"kind", "kind", &S::kind},
      {"by", "by", &S::by},
      {"requested_ms", "requested_ms", &S::requested_ms},
      {"at_ms", "at_ms", &S::at_ms},
      {"unit", "unit", &S::unit},
      {"from", "from", &S::from},
      {"to", "to", &S::to},
      {"ramp_rate", "ramp_rate", &S::ramp_rate},
  };
  return kFields;
}

}  // namespace loadd
