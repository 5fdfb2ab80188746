// Redaction: the plan's secrets never leave the coordinator in a view.
//
// A plan holds secrets in a few fields (kSecretPaths): the TLS client key,
// auth passwords and tokens, Authorization headers, and `env` values not
// marked public. Every view of a plan (GET /v1/runs/{id}, the run store,
// `loadctl validate --json`, and so every report made from the run's JSON)
// writes it through RedactPlan, which replaces each secret's value by the
// string "(redacted)". Workers alone get the plan with its secrets (the
// AssignMsg), since they need them to send the load.
//
// A plan that holds "(redacted)" where a secret goes is a report's copy, not
// a plan to run: ParsePlan refuses it (RefuseRedacted), naming the field.
// PlanFromJson accepts it, so a stored run's plan reads back.
#ifndef LOADD_COMMON_REDACT_H_
#define LOADD_COMMON_REDACT_H_

#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"

namespace loadd {

struct Plan;  // plan.h

// What every secret shows as.
inline constexpr std::string_view kRedacted = "(redacted)";

// The secret fields of a normalized plan, one pattern each: member names
// separated by '.', "*" for every member of an object or element of an
// array. Names compare case-insensitively (header names). A value matched
// is a secret unless it is an object with "public": true (an env value
// marked public).
inline constexpr std::string_view kSecretPaths[] = {
    "tls.key.content",
    "env.*",
    "scenarios.*.steps.*.auth.bearer",
    "scenarios.*.steps.*.auth.basic.password",
    "scenarios.*.steps.*.headers.authorization",
    "scenarios.*.steps.*.headers.proxy-authorization",
    "requests.*.headers.authorization",
    "requests.*.headers.proxy-authorization",
};

// Replaces every secret in the plan document by "(redacted)", in place.
// Idempotent; anything that is not a plan's shape is left as it is.
void RedactPlan(rapidjson::Value* plan, rapidjson::Document::AllocatorType* alloc);

// The normalized plan (PlanToJson) with its secrets redacted.
std::string RedactedPlanJson(const Plan& plan);

// Whether any secret of the plan document is still there (not redacted, not
// public): a run stored by a coordinator older than redaction.
bool HasSecrets(const rapidjson::Value& plan);

// InvalidArgument naming the first secret field whose value is "(redacted)"
// ("$.env.TOKEN"), with what to do instead; Ok when there is none.
Status RefuseRedacted(const rapidjson::Value& plan);

}  // namespace loadd

#endif  // LOADD_COMMON_REDACT_H_
