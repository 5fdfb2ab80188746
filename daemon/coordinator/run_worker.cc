#include "daemon/coordinator/run_worker.h"

namespace loadd {

std::span<const JsonField<RunWorker>> RunWorkerFields() {
  using W = RunWorker;
  static const JsonField<W> kFields[] = {
      {"id", "id", &W::worker_id},
      {"host", "host", &W::host},
      {"stripe", "stripe", &W::stripe},
      {"users", "users_assigned", &W::users_assigned},
      {"users_now", "users_now", &W::users_now},
      {"state", nullptr, JsonHook{kWorkerState}},
      {"lost_at_s", nullptr, JsonHook{kWorkerLostAt}},
      {"final_stats", nullptr, JsonHook{kWorkerFinalStats}},
      {"data_rows", nullptr, JsonHook{kWorkerDataRows}},
      {"requests", "requests", &W::requests},
      {"cpu_percent", "cpu_percent", &W::cpu_percent},
      {nullptr, "final", &W::final},
      {nullptr, "lost", &W::lost},
      {nullptr, "lost_at_ms", &W::lost_at_ms},
      // Absent from runs stored before it was kept.
      {nullptr, "data_rows", &W::data_rows, /*optional=*/true},
  };
  return kFields;
}

}  // namespace loadd
