// The load plan: what traffic to send, how many users, for how long.
//
// One parser serves the coordinator (POST /v1/runs), loadctl (validation and
// quick plans) and the worker (the plan arrives normalized over the bus), so
// every rejection reads the same everywhere and names the JSON path at fault.
// docs/plan.md is the reference for people.
#ifndef LOADD_COMMON_PLAN_H_
#define LOADD_COMMON_PLAN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/url.h"

namespace loadd {

struct RequestSpec {
  std::string name;    // the stats key; default "METHOD /path"
  std::string method;  // upper case
  Url url;             // absolute, resolved against Plan::target
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t weight = 1;  // share of a user's iterations, relative to siblings
};

struct Plan {
  // Upper bounds that hold whatever the operator configures.
  static constexpr int64_t kMaxUsers = 10'000'000;
  static constexpr int64_t kMaxRequests = 1000;
  static constexpr int64_t kMaxHeaders = 64;
  static constexpr size_t kMaxBodyBytes = 1 << 20;

  std::string name;
  std::string target;              // base URL as given; may be empty
  int64_t users = 0;               // closed model: concurrent users, fleet-wide
  double spawn_rate = 0;           // users started per second, fleet-wide
  int64_t duration_ns = 0;         // how long load runs after the first user starts
  int64_t timeout_ns = 0;          // per request
  int64_t graceful_stop_ns = 0;    // at the end, in-flight requests get this long
  std::vector<RequestSpec> requests;

  // Seconds from the first user's start to the last user's start.
  double RampSeconds() const { return users <= 1 ? 0 : (users - 1) / spawn_rate; }
};

// Parses and validates a plan. Missing optional fields take their defaults
// (docs/plan.md). Every error names the JSON path ("$.requests[1].method").
Result<Plan> ParsePlan(std::string_view json);
Result<Plan> PlanFromJson(const rapidjson::Value& value);

// The normalized plan as JSON: every default filled in, ParsePlan accepts it.
std::string PlanToJson(const Plan& plan);
void WritePlan(const Plan& plan, JsonWriter* w);

}  // namespace loadd

#endif  // LOADD_COMMON_PLAN_H_
