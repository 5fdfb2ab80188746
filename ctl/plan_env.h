// `loadctl start --env KEY=VALUE`: values for the plan's `env` object, which
// templates read as {{env.KEY}}.
#ifndef LOADD_CTL_PLAN_ENV_H_
#define LOADD_CTL_PLAN_ENV_H_

#include <rapidjson/document.h>

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loadd {

inline constexpr char kEnvFlag[] = "--env";

// Splits "KEY=VALUE" at the first '='. KEY is a letter or '_' followed by
// letters, digits and '_' (as in a shell); VALUE may be empty and may hold
// '='. Anything else is kInvalidArgument naming --env.
Result<std::pair<std::string, std::string>> ParseEnvFlag(const std::string& flag);

// The first flag ParseEnvFlag refuses, if any.
Status CheckEnvFlags(const std::vector<std::string>& flags);

// Sets each flag's KEY in the plan document's `env` object, creating it when
// absent. Flags win over the plan's own values and a later flag over an
// earlier one; the plan's other keys stay. A value the plan marks public
// ({"value": ..., "public": true}) stays public with the flag's value. A plan
// (or env) that is not an object is left alone for ParsePlan to reject.
Status ApplyEnvFlags(const std::vector<std::string>& flags, rapidjson::Document* doc);

}  // namespace loadd

#endif  // LOADD_CTL_PLAN_ENV_H_
