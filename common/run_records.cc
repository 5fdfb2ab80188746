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
