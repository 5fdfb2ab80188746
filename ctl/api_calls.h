// The coordinator's endpoints as typed calls (docs/rest-api.md). Each keeps
// the verbatim answer in *reply for --json.
#ifndef LOADD_CTL_API_CALLS_H_
#define LOADD_CTL_API_CALLS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/run_filter.h"
#include "common/status.h"
#include "ctl/api_client.h"
#include "ctl/run_view.h"

namespace loadd {

// Run ids are the coordinator's ("r1700000000-3f2a"): 1 to 128 of
// [A-Za-z0-9._-]. Anything else is kInvalidArgument naming "RUN", so a typed
// id never changes the URL's path or query.
Status CheckRunId(const std::string& id);

// POST /v1/runs; *id is the new run's.
Status CreateRun(ApiClient* api, const std::string& plan_json, JsonReply* reply,
                 std::string* id);
// GET /v1/runs/{id}, with or without the per-second timeline.
Status FetchRun(ApiClient* api, const std::string& id, bool timeline, JsonReply* reply,
                RunView* run);
// GET /v1/runs/{id}/hlog: the run's HdrHistogram interval log, as text.
Status FetchHlog(ApiClient* api, const std::string& id, std::string* hlog);
// GET /v1/runs, newest first.
// GET /v1/runs, with the runs `filter` passes (common/run_filter.h).
Status FetchRuns(ApiClient* api, JsonReply* reply, std::vector<RunSummary>* runs,
                 const RunFilter& filter = RunFilter());
// GET /v1/workers.
Status FetchWorkers(ApiClient* api, JsonReply* reply, std::vector<WorkerView>* workers);
// GET /healthz: *live is its `workers`, the live workers.
Status FetchLiveWorkers(ApiClient* api, int64_t* live);
// PATCH /v1/runs/{id} with body ({"users": N} or {"rate": R}): live scaling.
Status ScaleRun(ApiClient* api, const std::string& id, const std::string& body,
                JsonReply* reply);
// POST /v1/runs/{id}/stop. 409 (the run already ended) is kFailedPrecondition.
Status StopRun(ApiClient* api, const std::string& id, JsonReply* reply);

}  // namespace loadd

#endif  // LOADD_CTL_API_CALLS_H_
