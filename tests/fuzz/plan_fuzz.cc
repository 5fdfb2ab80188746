// Fuzzes ParsePlan, the parser behind POST /v1/runs and `loadctl validate`.
// Besides "never crash", checks the normalization contract of plan.h: a plan
// that parses prints (PlanToJson) as JSON that parses again and prints the
// same, so the plan a worker receives is the plan the coordinator accepted.
// And no plan that parses can put CR, LF or NUL into a request head, whatever
// its templates receive at run time (issue 14: header, auth and query
// smuggling).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <string_view>

#include "common/http_fields.h"
#include "common/plan.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "plan_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// The request line's target: no space, CR, LF or NUL.
bool BadTarget(std::string_view target) {
  return target.find_first_of(std::string_view(" \r\n\0", 4)) != std::string_view::npos;
}

void CheckField(const std::string& name, const std::string& value) {
  if (!loadd::IsHttpToken(name) || loadd::HasCrLfNul(value)) {
    Fail("a request head can break a line", name + ": " + value);
  }
}

// Every request, and every step rendered with each run-time value (env,
// data column, extracted variable) set to a line-breaking string.
void CheckHeads(const loadd::Plan& plan) {
  for (const loadd::RequestSpec& r : plan.requests) {
    if (!loadd::IsHttpToken(r.method) || BadTarget(r.url.target)) {
      Fail("a request line can break", r.method + " " + r.url.target);
    }
    for (const auto& [name, value] : r.headers) CheckField(name, value);
  }
  static constexpr char kHostile[] = "v\r\nX-Injected: 1\r\n\r\nGET /x HTTP/1.1\r\n\0 ";
  const std::string hostile(kHostile, sizeof kHostile - 1);
  std::map<std::string, std::string> env = plan.env, vars;
  for (auto& [name, value] : env) value = hostile;
  for (const std::string& column : plan.data.columns) vars["data." + column] = hostile;
  for (const loadd::Scenario& sc : plan.scenarios) {
    for (const loadd::Step& step : sc.steps) {
      for (const loadd::Extract& e : step.extracts) vars[e.var] = hostile;
    }
  }
  std::mt19937_64 rng(1);
  loadd::TemplateContext ctx{0, 0, &env, &vars, &rng};
  for (const loadd::Scenario& sc : plan.scenarios) {
    for (const loadd::Step& step : sc.steps) {
      std::string target = step.target.Render(ctx);
      if (!loadd::IsHttpToken(step.method) || BadTarget(target)) {
        Fail("a step's request line can break", step.method + " " + target);
      }
      for (const auto& [name, value] : step.headers) CheckField(name, value.Render(ctx));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  loadd::Result<loadd::Plan> plan = loadd::ParsePlan(text);
  if (!plan.ok()) return 0;
  CheckHeads(*plan);
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
