// ScaleRequest: the body of PATCH /v1/runs/{id} (live scaling,
// docs/rest-api.md): {"users": N} for a closed-model run or {"rate": R}
// (arrivals per second) for an open-model one, and the checks it passes
// before anything changes: the operator's limits and the token's caps, as
// a plan of that size would meet them (limits.h, tokens.h). Every refusal
// names the JSON path at fault and the limit or cap. Pure: no run, no I/O.
#ifndef LOADD_DAEMON_COORDINATOR_SCALE_REQUEST_H_
#define LOADD_DAEMON_COORDINATOR_SCALE_REQUEST_H_

#include <string_view>

#include "common/plan.h"
#include "common/status.h"
#include "daemon/coordinator/limits.h"
#include "daemon/coordinator/tokens.h"

namespace loadd {

struct ScaleRequest {
  LoadModel model = LoadModel::kClosed;  // which field was given
  double value = 0;                      // users, or arrivals per second
  // The field's JSON path: "$.users" or "$.rate".
  const char* path() const { return model == LoadModel::kOpen ? "$.rate" : "$.users"; }
  const char* unit() const { return model == LoadModel::kOpen ? "rate" : "users"; }
};

// Exactly one of "users" (a whole number, 0 to Plan::kMaxUsers) or "rate"
// (0 to Plan::kMaxRate); anything else is refused naming its path.
Result<ScaleRequest> ParseScaleRequest(std::string_view body);

// The operator's --max-users / --max-rate, then the token's max-users /
// max-rate caps (kPermissionDenied naming the limit or cap and the path).
Status CheckScaleLimits(const ScaleRequest& request, const RunLimits& limits,
                        const TokenIdentity& who);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_SCALE_REQUEST_H_
