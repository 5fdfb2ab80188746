#include "daemon/coordinator/scale_request.h"

#include "common/json.h"
#include "common/json_reader.h"

namespace loadd {
namespace {

// A plan of the size asked for, so the limits and caps are the ones a new
// run meets (one rule, one place).
Plan ProbePlan(const ScaleRequest& request) {
  Plan plan;
  plan.model = request.model;
  if (request.model == LoadModel::kOpen) {
    plan.arrival_rate = request.value;
  } else {
    plan.users = static_cast<int64_t>(request.value);
  }
  return plan;
}

// The probe's refusal, at the request's own path.
Status AtRequestPath(const Status& status, const ScaleRequest& request) {
  if (status.ok()) return status;
  return Status(status.code(), status.message(), request.path());
}

}  // namespace

Result<ScaleRequest> ParseScaleRequest(std::string_view body) {
  rapidjson::Document doc;
  Status parsed = ParseJson(body, &doc, 4);
  if (!parsed.ok())
    return Status::Invalid("$", "the body must be JSON: " + parsed.message());
  if (!doc.IsObject()) {
    return Status::Invalid("$", R"(must be an object: {"users": N} or {"rate": R})");
  }
  ObjectReader r(doc, "$");
  const bool has_users = doc.HasMember("users");
  const bool has_rate = doc.HasMember("rate");
  if (has_users == has_rate) {
    return Status::Invalid("$", has_users ? "give users or rate, not both"
                                          : R"(give {"users": N} (closed model) or )"
                                            R"({"rate": R} (open model, arrivals/s))");
  }
  ScaleRequest request;
  if (has_users) {
    int64_t users = 0;
    LOADD_RETURN_IF_ERROR(r.Int("users", &users, 0, Plan::kMaxUsers, true));
    request.value = static_cast<double>(users);
  } else {
    request.model = LoadModel::kOpen;
    LOADD_RETURN_IF_ERROR(r.NonNegative("rate", &request.value, Plan::kMaxRate, true));
  }
  LOADD_RETURN_IF_ERROR(r.Finish());
  return request;
}

Status CheckScaleLimits(const ScaleRequest& request, const RunLimits& limits,
                        const TokenIdentity& who) {
  Plan probe = ProbePlan(request);
  LOADD_RETURN_IF_ERROR(AtRequestPath(CheckRunLimits(probe, 0, limits), request));
  // Caps on the number of runs do not apply: scaling starts none.
  TokenIdentity load_caps = who;
  load_caps.caps.max_runs = 0;
  return AtRequestPath(CheckTokenCaps(probe, load_caps, 0), request);
}

}  // namespace loadd
