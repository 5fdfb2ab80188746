// RunFilter: which runs GET /v1/runs lists (`?label=K=V&state=S`) and
// `loadctl runs --label K=V --state S` asks for. Every label must match
// (the run has that key with that value); the run's state must be one of
// the states, when any are given. One rule for the coordinator and
// loadctl. Pure functions.
#ifndef LOADD_COMMON_RUN_FILTER_H_
#define LOADD_COMMON_RUN_FILTER_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/status.h"

namespace loadd {

// The most states one filter names (more than there are states).
constexpr size_t kMaxFilterStates = 16;

struct RunFilter {
  Labels labels;                    // all must match
  std::vector<std::string> states;  // any may match; none: every state

  bool empty() const { return labels.empty() && states.empty(); }
};

// Adds "K=V" (or several, "K1=V1,K2=V2") to the filter's labels by the
// label rules (common/labels.h); errors name `where` (the query parameter
// "label" or the flag "--label") and say why.
Status AddFilterLabels(std::string_view value, const std::string& where,
                       RunFilter* filter);

// Adds a state (or several, "finished,stopped"). `known` says whether a
// name is a run state and `known_names` lists them for the error; a null
// `known` accepts any lowercase word (loadctl leaves the list to the
// coordinator). Errors name `where`.
Status AddFilterStates(std::string_view value, const std::string& where,
                       const std::function<bool(std::string_view)>& known,
                       const std::string& known_names, RunFilter* filter);

// Whether a run in `state` with `labels` passes.
bool RunFilterMatches(const RunFilter& filter, std::string_view state,
                      const Labels& labels);

// The filter as a query string without '?' ("label=k%3Dv&state=finished"),
// "" for an empty one; '=' in a label is percent-encoded.
std::string RunFilterQuery(const RunFilter& filter);

}  // namespace loadd

#endif  // LOADD_COMMON_RUN_FILTER_H_
