// Run's JSON views for REST (docs/openapi.yaml): WriteSummary for
// GET /v1/runs and WriteFull for GET /v1/runs/{id}. The records shared with
// the store and loadctl are written from their descriptions
// (common/run_records.h, run_worker.h); the rest is REST's alone.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/clock.h"
#include "common/redact.h"
#include "daemon/coordinator/data_warning.h"
#include "daemon/coordinator/run.h"

namespace loadd {
namespace {

void Dbl(JsonWriter* w, const char* key, double v) {
  w->Key(key);
  w->Double(std::isfinite(v) ? std::round(v * 10) / 10 : 0);
}

// A latency histogram's summary fields (LatencySummary), with stddev_us
// for an endpoint's latency and without for its service time.
void WritePercentiles(JsonWriter* w, const HdrHistogram& h, bool stddev) {
  WriteJsonFields(w, LatencySummaryOf(h), LatencySummaryFields(), JsonDoc::kApi,
                  [&](JsonWriter* w, int, const char* name) {
                    if (stddev) Dbl(w, name, h.StdDev());
                  });
}

void WriteEndpoint(JsonWriter* w, const EndpointTotals& e, double seconds) {
  EndpointRecord record{e.name, e.requests, e.failures,
                        seconds > 0 ? static_cast<double>(e.requests) / seconds : 0,
                        e.bytes_in};
  w->StartObject();
  WriteJsonFields(w, record, EndpointRecordFields(), JsonDoc::kApi,
                  [&](JsonWriter* w, int hook, const char* name) {
                    switch (hook) {
                      case kEndpointLatency:
                        WritePercentiles(w, e.latency_us, /*stddev=*/true);
                        break;
                      case kEndpointErrors:
                        WriteErrorCounts(w, name, e.errors, /*zeros=*/false);
                        break;
                      case kEndpointService:
                        // Open model: the uncorrected time from sending,
                        // beside the corrected latency (which counts from
                        // each iteration's intended start).
                        if (e.service_us.TotalCount() == 0) break;
                        w->Key(name);
                        w->StartObject();
                        WritePercentiles(w, e.service_us, /*stddev=*/false);
                        w->EndObject();
                        break;
                    }
                  });
  w->EndObject();
}

std::string IsoTime(std::time_t t) {
  char buf[32];
  std::tm tm;
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Latencies as whole us (mean to 0.1 us), rates to 6 decimals, rps to 0.1.
void WriteActual(JsonWriter* w, const char* name, ThresholdMetric metric,
                 const ThresholdResult& r) {
  w->Key(name);
  if (!r.measured) {
    w->Null();
  } else if (UnitOf(metric) == MetricUnit::kFraction) {
    w->Double(std::round(r.actual * 1e6) / 1e6);
  } else if (metric == ThresholdMetric::kRps || metric == ThresholdMetric::kMean) {
    w->Double(std::round(r.actual * 10) / 10);
  } else {
    w->Int64(static_cast<int64_t>(r.actual));
  }
}

}  // namespace

void Run::WriteSummary(JsonWriter* w) const {
  RunSummary row;
  row.id = id_;
  row.name = plan_.name;
  row.state = RunStateName(state_);
  row.created_at = IsoTime(created_epoch_ns_ / kNsPerSec);
  row.started_by = started_by_;
  row.users = plan_.users;
  row.duration_s = static_cast<double>(plan_.duration_ns) / 1e9;
  row.requests = stats_.AggregatedCounts().requests;
  row.warnings =
      static_cast<int64_t>(cpu_warnings_.size()) + (WorkersWithoutRows(workers_) > 0);
  row.failures = stats_.AggregatedCounts().failures;
  if (IsFinal(state_)) row.thresholds_passed = ThresholdsPassed();
  w->StartObject();
  WriteJsonFields(w, row, RunSummaryFields(), JsonDoc::kApi);
  WriteLabels(w, "labels", plan_.labels);
  if (queue_position_ > 0) WriteField(w, "queue_position", queue_position_);
  w->EndObject();
}

const std::string& Run::RedactedPlan() const {
  if (redacted_plan_.empty()) redacted_plan_ = RedactedPlanJson(plan_);
  return redacted_plan_;
}

void Run::WriteFull(JsonWriter* w, bool timeline, int64_t now_ns, int64_t since_s) const {
  double seconds = ElapsedSeconds(now_ns);
  w->StartObject();
  WriteField(w, "id", id_);
  WriteField(w, "name", plan_.name);
  WriteLabels(w, "labels", plan_.labels);
  WriteField(w, "state", RunStateName(state_));
  if (queue_position_ > 0) WriteField(w, "queue_position", queue_position_);
  WriteField(w, "message", message_);
  WriteEnd(w);
  WriteField(w, "created_at", IsoTime(created_epoch_ns_ / kNsPerSec));
  WriteField(w, "started_by", started_by_);
  Dbl(w, "elapsed_s", seconds);
  Dbl(w, "duration_s", static_cast<double>(plan_.duration_ns) / 1e9);
  w->Key("plan");  // never with its secrets (common/redact.h)
  w->RawValue(RedactedPlan().data(), RedactedPlan().size(), rapidjson::kObjectType);
  WriteField(w, "users", ActiveUsers());
  // Scaled: the level last asked for (users, or arrivals/s in the open model).
  WriteField(w, "target_users",
             events_.empty() || plan_.model == LoadModel::kOpen
                 ? plan_.users
                 : static_cast<int64_t>(std::llround(events_.back().to)));
  WriteEvents(w, JsonDoc::kApi);
  w->Key("workers");
  w->StartArray();
  for (const RunWorker& rw : workers_) {
    w->StartObject();
    WriteJsonFields(w, rw, RunWorkerFields(), JsonDoc::kApi,
                    [&](JsonWriter* w, int hook, const char* name) {
                      WriteWorkerHook(w, rw, hook, name);
                    });
    w->EndObject();
  }
  w->EndArray();
  const EndpointTotals& all = stats_.AggregatedCounts();
  RunTotals totals{all.requests, all.failures,
                   seconds > 0 ? static_cast<double>(all.requests) / seconds : 0,
                   stats_.dropped()};
  w->Key("totals");
  w->StartObject();
  WriteJsonFields(w, totals, RunTotalsFields(), JsonDoc::kApi,
                  [&](JsonWriter* w, int, const char* name) {
                    WriteErrorCounts(w, name, all.errors, /*zeros=*/true);
                  });
  w->EndObject();
  w->Key("warnings");
  w->StartArray();
  for (const CpuWarning& c : cpu_warnings_) {
    w->StartObject();
    WriteField(w, "kind", "cpu");
    WriteField(w, "worker", c.worker_id);
    WriteField(w, "from_s", c.from_s);
    WriteField(w, "to_s", c.to_s);
    Dbl(w, "max_cpu_percent", c.max_percent);
    char text[256];
    std::snprintf(
        text, sizeof text,
        "worker %s used %.0f%% CPU from %llds to %llds; its latencies are suspect "
        "(add workers or lower the load per worker)",
        c.worker_id.c_str(), c.max_percent, static_cast<long long>(c.from_s),
        static_cast<long long>(c.to_s));
    WriteField(w, "message", text);
    w->EndObject();
  }
  WriteDataWarning(w, plan_, workers_);
  w->EndArray();
  w->Key("endpoints");
  w->StartArray();
  for (const EndpointTotals& e : stats_.endpoints()) WriteEndpoint(w, e, seconds);
  w->EndArray();
  w->Key("aggregated");
  WriteEndpoint(w, Aggregated(), seconds);
  WriteThresholds(w, now_ns);
  WriteChecks(w, JsonDoc::kApi);
  if (timeline) {
    w->Key("timeline");
    w->StartArray();
    // Seconds close in order and are never reopened (SecondOf), so the
    // wanted ones are a suffix.
    auto first =
        std::partition_point(stats_.timeline().begin(), stats_.timeline().end(),
                             [&](const SecondSummary& s) { return s.t < since_s; });
    for (auto it = first; it != stats_.timeline().end(); ++it) {
      w->StartObject();
      WriteJsonFields(w, *it, RunSecondFields(), JsonDoc::kApi);
      w->EndObject();
    }
    w->EndArray();
  }
  w->EndObject();
}

void Run::WriteWorkerHook(JsonWriter* w, const RunWorker& rw, int hook,
                          const char* name) const {
  switch (hook) {
    case kWorkerState:
      WriteField(w, name,
                 rw.lost                            ? "lost"
                 : rw.final                         ? "done"
                 : state_ == RunState::kInterrupted ? "interrupted"
                                                    : "running");
      break;
    case kWorkerLostAt:
      if (rw.lost) Dbl(w, name, static_cast<double>(rw.lost_at_ms) / 1000);
      break;
    case kWorkerFinalStats:
      WriteField(w, name, FinalStatsName(FinalStatsOf(rw)));
      break;
    case kWorkerDataRows:
      if (rw.data_rows >= 0) WriteField(w, name, rw.data_rows);
      break;
  }
}

void Run::WriteEvents(JsonWriter* w, JsonDoc doc) const {
  w->Key("events");
  w->StartArray();
  for (const RunEvent& e : events_) {
    w->StartObject();
    WriteJsonFields(w, e, RunEventFields(), doc);
    w->EndObject();
  }
  w->EndArray();
}

void Run::WriteChecks(JsonWriter* w, JsonDoc doc) const {
  w->Key("checks");
  w->StartArray();
  for (const auto& [name, c] : stats_.checks()) {
    w->StartObject();
    WriteJsonFields(w, CheckRecord{name, c.passed, c.failed}, CheckRecordFields(), doc);
    w->EndObject();
  }
  w->EndArray();
}

void Run::WriteEnd(JsonWriter* w) const {
  RunEndRecord end;
  if (end_reason_ && IsFinal(state_)) end.end_reason = EndReasonName(*end_reason_);
  if (aborted() && *aborted_index_ < plan_.thresholds.size()) {
    end.aborted_by = plan_.thresholds[*aborted_index_].key;
  }
  WriteJsonFields(w, end, RunEndFields(), JsonDoc::kApi);
}

void Run::WriteThresholds(JsonWriter* w, int64_t now_ns) const {
  std::vector<ThresholdResult> live;
  const std::vector<ThresholdResult>* results = &results_;
  if (!IsFinal(state_)) {
    live = EvaluateAll(now_ns);
    results = &live;
  }
  w->Key("thresholds");
  w->StartArray();
  for (size_t i = 0; i < plan_.thresholds.size() && i < results->size(); ++i) {
    const Threshold& t = plan_.thresholds[i];
    const ThresholdResult& r = (*results)[i];
    w->StartObject();
    WriteJsonFields(w, ThresholdRecordOf(r, &t), ThresholdRecordFields(), JsonDoc::kApi,
                    [&](JsonWriter* w, int, const char* name) {
                      WriteActual(w, name, t.measure.metric, r);
                    });
    w->EndObject();
  }
  w->EndArray();
  WriteThresholdsPassed(w);
}

void Run::WriteThresholdsPassed(JsonWriter* w) const {
  w->Key("thresholds_passed");
  if (IsFinal(state_)) {
    w->Bool(ThresholdsPassed());
  } else {
    w->Null();  // not decided while the run goes on
  }
}

}  // namespace loadd
