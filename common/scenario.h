// Scenarios: what a user does, as ordered steps (Locust tasks in sequence,
// k6 scenarios, Artillery flows). Each user of the closed model belongs to
// one scenario for the whole run, dealt by weight over the fleet-wide user
// index so the proportions hold exactly across the fleet; an open-model
// arrival runs one iteration of the scenario its index selects.
//
// A step is one HTTP request whose path, query, headers and body are
// templates (common/template.h); it may extract variables from the
// response for later steps and run checks on it. Parsed and validated by
// the plan parser, with errors naming the JSON path.
#ifndef LOADD_COMMON_SCENARIO_H_
#define LOADD_COMMON_SCENARIO_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/body_regex.h"
#include "common/json.h"
#include "common/json_reader.h"
#include "common/status.h"
#include "common/template.h"
#include "common/url.h"

namespace loadd {

// A step's name is at most this many bytes, as $.requests[].name (plan.cc):
// it names the step's stats row and heads its checks' names. A longer name
// is refused; a default name ("GET /path") is cut to it.
constexpr size_t kMaxStepNameBytes = 200;

struct Extract {
  enum class Kind { kJson, kRegex, kHeader };
  std::string var;
  std::string check_name;  // "<step>: extract <var>", bounded as Check::name
  Kind kind = Kind::kJson;
  std::string expr;                        // JSON pointer, regex, or header name
  std::shared_ptr<const BodyRegex> regex;  // compiled for kRegex
};

struct Check {
  enum class Kind {
    kStatus,
    kBodyContains,
    kBodyRegex,
    kJsonEquals,
    kHeaderContains,
    kLatency
  };
  Kind kind = Kind::kStatus;
  // "<step>: <what>", at most kMaxStatsCheckNameBytes (the stats wire
  // bound): a longer one keeps its head, cut at a UTF-8 boundary, then "…",
  // the closing quote or slash, and " #" + 16 hex digits of a hash of the
  // whole name, so two long checks that share a head stay two checks.
  std::string name;
  std::vector<int> statuses;  // kStatus
  std::string text;           // contains / header substring / JSON pointer
  std::string header;         // kHeaderContains
  std::string equals_json;    // kJsonEquals: the expected value, as compact JSON
  std::shared_ptr<const BodyRegex> regex;  // kBodyRegex
  int64_t latency_us = 0;                  // kLatency: must be below
};

struct Step {
  std::string name;
  std::string method;
  Url url;          // scheme, host and port fixed; url.target is the template source
  Template target;  // path and query
  std::vector<std::pair<std::string, Template>> headers;
  bool has_body = false;
  Template body;
  int64_t timeout_ns = 0;  // 0: the plan's
  std::vector<Extract> extracts;
  std::vector<Check> checks;
  bool need_body = false;                 // extraction or checks read the body
  std::vector<std::string> need_headers;  // lower-case names to capture
};

struct ThinkTime {
  enum class Kind { kNone, kConstant, kUniform, kPacing };
  Kind kind = Kind::kNone;
  int64_t min_ns = 0;
  int64_t max_ns = 0;  // kUniform; kPacing uses min_ns as the iteration period
};

struct Scenario {
  std::string name;
  int64_t weight = 1;
  ThinkTime think;
  std::vector<Step> steps;
};

// Reads $.scenarios. `target` resolves step paths; `env` are the names of
// values given at start; `default_timeout_ns` fills steps without one.
// `data_vars` are "data.COLUMN" for the plan's data file.
Status ReadScenarios(const rapidjson::Value& value, const std::string& target,
                     const std::set<std::string>& env,
                     const std::set<std::string>& data_vars, std::vector<Scenario>* out);

// Smooth weighted round robin (as nginx balances upstreams): each index
// appears weight/gcd times per cycle, spread out rather than bunched. Entry
// i % size() picks for fleet-wide user or iteration i, so weights hold
// exactly over the fleet. At most 100,000 entries.
std::vector<uint32_t> WeightedRotation(const std::vector<int64_t>& weights);

}  // namespace loadd

#endif  // LOADD_COMMON_SCENARIO_H_
