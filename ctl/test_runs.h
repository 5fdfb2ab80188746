// Fixed answers of GET /v1/runs/{id} for the report format tests.
#ifndef LOADD_CTL_TEST_RUNS_H_
#define LOADD_CTL_TEST_RUNS_H_

#include <gtest/gtest.h>

#include "common/json.h"
#include "ctl/run_view.h"

namespace loadd {

// A finished CI run: two endpoints (one a POST step whose name needs CSV
// quoting), three timeline seconds, a passed and a failed threshold, and a
// check whose name needs XML escaping.
inline constexpr char kCiRunJson[] = R"({
  "id": "r1700000000-3f2a", "name": "ci", "state": "finished", "message": "",
  "created_at": "2023-11-14T22:13:20Z", "elapsed_s": 3.0, "duration_s": 3.0,
  "users": 10, "target_users": 10, "workers": [{"id": "h/0", "state": "done"}],
  "totals": {"requests": 3000, "failures": 30, "rps": 1000, "errors": {"status": 30}},
  "endpoints": [
    {"name": "GET /a", "requests": 2000, "failures": 20, "rps": 666.7, "bytes_in": 400000,
     "min_us": 1000, "mean_us": 2512, "p50_us": 2000, "p90_us": 4000, "p95_us": 5000,
     "p99_us": 9000, "p999_us": 12000, "max_us": 15000},
    {"name": "login, \"quoted\"", "method": "POST", "requests": 1000, "failures": 10,
     "rps": 333.3, "min_us": 1500, "mean_us": 3125, "p50_us": 3000, "p90_us": 4500,
     "p95_us": 6000, "p99_us": 9500, "p999_us": 11000, "max_us": 20000}],
  "aggregated": {"name": "Aggregated", "requests": 3000, "failures": 30, "rps": 1000,
     "bytes_in": 400000, "min_us": 1000, "mean_us": 2716, "p50_us": 2500, "p90_us": 4200,
     "p95_us": 5000, "p99_us": 9000, "p999_us": 12000, "max_us": 20000},
  "timeline": [
    {"t": 0, "users": 10, "requests": 1000, "failures": 10, "rps": 1000,
     "p50_us": 2000, "p95_us": 5000, "p99_us": 9000, "max_us": 15000},
    {"t": 1, "users": 10, "requests": 1000, "failures": 20, "rps": 1000,
     "p50_us": 2500, "p95_us": 5500, "p99_us": 9500, "max_us": 20000},
    {"t": 2, "users": 5, "requests": 1000, "failures": 0, "rps": 1000,
     "p50_us": 2000, "p95_us": 4000, "p99_us": 8000, "max_us": 10000}],
  "thresholds": [
    {"key": "http.p95", "condition": "<250ms", "actual": 5000, "passed": true,
     "message": "actual 5.00ms meets <250ms"},
    {"key": "http.error_rate", "condition": "<0.5%", "actual": 0.01, "passed": false,
     "message": "actual 1.00% misses <0.5%"}],
  "thresholds_passed": false,
  "checks": [
    {"name": "login: status is 200 <&\">", "passed": 990, "failed": 10},
    {"name": "cart: body has id", "passed": 2000, "failed": 0}]
})";

inline RunView ParseTestRun(const char* json) {
  rapidjson::Document doc;
  EXPECT_TRUE(ParseJson(json, &doc).ok()) << json;
  RunView run;
  Status status = ParseRunView(doc, &run);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return run;
}

}  // namespace loadd

#endif  // LOADD_CTL_TEST_RUNS_H_
