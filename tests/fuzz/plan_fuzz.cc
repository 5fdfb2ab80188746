// Fuzzes ParsePlan, the parser behind POST /v1/runs and `loadctl validate`.
// Besides "never crash", checks the normalization contract of plan.h: a plan
// that parses prints (PlanToJson) as JSON that parses again and prints the
// same, so the plan a worker receives is the plan the coordinator accepted.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/plan.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "plan_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  loadd::Result<loadd::Plan> plan = loadd::ParsePlan(text);
  if (!plan.ok()) return 0;
  std::string normalized = loadd::PlanToJson(*plan);
  loadd::Result<loadd::Plan> again = loadd::ParsePlan(normalized);
  if (!again.ok()) {
    Fail("the normalized plan does not parse",
         again.status().ToString() + "\nnormalized: " + normalized);
  }
  std::string twice = loadd::PlanToJson(*again);
  if (twice != normalized) {
    Fail("normalizing twice changes the plan",
         "first:  " + normalized + "\nsecond: " + twice);
  }
  return 0;
}
