// When two runs are not comparable, and why (docs/compare.md): the
// warnings of a comparison. Each names the difference; none changes a
// verdict (the reader decides what the difference means).
#ifndef LOADD_COMMON_COMPARE_COMPARABILITY_H_
#define LOADD_COMMON_COMPARE_COMPARABILITY_H_

#include <string>
#include <vector>

#include "common/compare/run_compare.h"

namespace loadd {

// Kinds: "state" (a run that did not finish), "plan" (other plan names, or
// plan fields that differ, up to kMaxPlanDifferences by JSON path), "load"
// (model, users, arrival rate), "workers", "duration" (other durations),
// "ramp" (a plan without a steady state), "errors" (an error rate above
// options.error_rate_warning), "run" (a warning of either run, such as a
// worker short of CPU).
std::vector<CompareWarning> ComparabilityWarnings(const RunSamples& base,
                                                  const RunSamples& candidate,
                                                  const CompareOptions& options);

// The JSON paths where two documents differ ("$.requests[0].url"), with
// both values, at most `limit`; `skip` names top-level keys left out.
std::vector<std::string> JsonDifferences(const std::string& base_json,
                                         const std::string& candidate_json,
                                         const std::vector<std::string>& skip,
                                         size_t limit);

inline constexpr size_t kMaxPlanDifferences = 5;

}  // namespace loadd

#endif  // LOADD_COMMON_COMPARE_COMPARABILITY_H_
