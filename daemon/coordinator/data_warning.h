// The data-file warning of a run: a shared or sharded data file with fewer
// rows than the run has workers leaves some workers without a row, and
// their users do nothing (docs/plan.md, "Data files"). The run says so in
// its `warnings` (docs/rest-api.md) rather than finish as if all had run.
#ifndef LOADD_DAEMON_COORDINATOR_DATA_WARNING_H_
#define LOADD_DAEMON_COORDINATOR_DATA_WARNING_H_

#include <cstdint>
#include <vector>

#include "common/json.h"
#include "common/plan.h"
#include "daemon/coordinator/run.h"

namespace loadd {

// Workers whose share of the data file has no row (data_rows == 0).
int64_t WorkersWithoutRows(const std::vector<RunWorker>& workers);

// Writes one warning object ({"kind": "data", "workers": N, "rows": R,
// "message": ...}) when some worker got no row; nothing otherwise.
void WriteDataWarning(JsonWriter* w, const Plan& plan,
                      const std::vector<RunWorker>& workers);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_DATA_WARNING_H_
