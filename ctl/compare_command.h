// loadctl compare BASE CANDIDATE (docs/compare.md): GET /v1/compare, shown
// as a table coloured by verdict, the coordinator's JSON (--json), or a
// Markdown table for a merge-request comment (--format markdown).
#ifndef LOADD_CTL_COMPARE_COMMAND_H_
#define LOADD_CTL_COMPARE_COMMAND_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "ctl/env.h"
#include "ctl/exit_code.h"

namespace loadd {

// One metric of one endpoint, as GET /v1/compare answers it.
struct CompareRow {
  std::string endpoint;
  std::string metric;   // "p50", "p999", "rps", "error_rate", ...
  bool latency = true;  // base and candidate are microseconds
  double base = 0, candidate = 0;
  std::optional<double> change_pct, p_value;
  std::string verdict;  // slower, faster, lower, higher, no_change
  std::string worse;    // the direction that is worse
};

struct CompareView {
  std::string base, candidate;
  double min_change_pct = 0, alpha = 0;
  int64_t base_seconds = 0, candidate_seconds = 0;
  std::vector<CompareRow> rows;  // aggregated first, then each endpoint
  std::vector<std::pair<std::string, std::string>> warnings;  // kind, message
};

// InternalError naming the field when the answer is not the contract.
Status ParseCompareView(const rapidjson::Value& doc, CompareView* view);

// -1: the change is worse (slower, fewer requests/s, more errors), +1 better,
// 0 no change.
int Direction(const CompareRow& row);

std::string FormatCompareTable(const CompareView& view, bool color);
std::string FormatCompareMarkdown(const CompareView& view);

// The command: options.run_id is BASE, options.candidate_id CANDIDATE.
Result<Outcome> RunCompare(const Options& options, Env* env);

}  // namespace loadd

#endif  // LOADD_CTL_COMPARE_COMMAND_H_
