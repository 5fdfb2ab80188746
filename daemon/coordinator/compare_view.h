// GET /v1/compare (docs/compare.md): two runs gathered from the
// coordinator's own answers (GetRun with its timeline, GetRunHlog) and
// compared by the pure statistics of common/compare/.
#ifndef LOADD_DAEMON_COORDINATOR_COMPARE_VIEW_H_
#define LOADD_DAEMON_COORDINATOR_COMPARE_VIEW_H_

#include <functional>
#include <optional>
#include <string>

#include "common/compare/run_compare.h"
#include "common/status.h"

namespace loadd {

class Coordinator;

struct CompareRequest {
  std::string base, candidate;  // run ids
  CompareOptions options;
};

// The query: base and candidate (run ids, required), min_change (percent,
// 0 to 1000), alpha (0 to 0.5), include_ramp (true/false/1/0). Errors name
// the parameter as their path.
using QueryLookup = std::function<std::optional<std::string>(const char* name)>;
Result<CompareRequest> ParseCompareQuery(const QueryLookup& query);

// A run's samples from its REST document (GET /v1/runs/{id} with its
// timeline) and its interval log (GET /v1/runs/{id}/hlog). Pure.
Result<RunSamples> RunSamplesFrom(const std::string& run_json, const std::string& hlog);

// The comparison as JSON (WriteCompare); NotFound names the missing run.
Result<std::string> CompareRunsJson(Coordinator* coordinator,
                                    const CompareRequest& request);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_COMPARE_VIEW_H_
