// ScenarioRunner: one user's (or one open-model arrival's) way through a
// scenario's steps: renders each step's templates into a request, then
// runs its checks and extractions on the response and counts them. The
// user's variables and cookies live here. Loop-thread only.
#ifndef LOADD_DAEMON_WORKER_SCENARIO_RUNNER_H_
#define LOADD_DAEMON_WORKER_SCENARIO_RUNNER_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/scenario.h"
#include "daemon/worker/connection.h"
#include "daemon/worker/cookie_jar.h"

namespace loadd {

class Engine;

// Per-plan, per-engine data the runners share: check ids and step slots.
struct CompiledScenarios {
  struct StepInfo {
    int slot = 0;
    int address = 0;
    std::vector<int> check_ids;    // parallel to Step::checks
    std::vector<int> extract_ids;  // "step: extract var" pseudo-checks
  };
  std::vector<std::vector<StepInfo>> steps;  // [scenario][step]
  std::vector<uint32_t> rotation;            // scenario for index i: rotation[i % size]
};

class ScenarioRunner {
 public:
  ScenarioRunner(Engine* engine, const CompiledScenarios* compiled, int64_t user);
  ~ScenarioRunner();

  // Picks the scenario for fleet-wide index i (a user, or an arrival).
  void Assign(int64_t index);
  const Scenario& scenario() const;
  // The request of the current step, rendered now. Valid until the next call.
  // nullptr when a new iteration needs a data row and none is left.
  const PreparedRequest* RenderStep();
  // Runs checks and extractions; returns false when the iteration ends (its
  // last step is done, or an extraction failed so later steps cannot run).
  bool OnStepDone(const ExchangeResult& result);
  // Time to wait before the next iteration starts, from the scenario's think
  // time; iteration_start_ns is when the iteration that just ended began.
  int64_t ThinkNs(int64_t iteration_start_ns, int64_t now_ns);
  int64_t iteration() const { return iteration_; }
  bool at_first_step() const { return step_ == 0; }

 private:
  bool Extract(const Step& step, const ExchangeResult& result);
  // The Cookie header line for `step` ("" when none), and what its
  // response set.
  std::string CookieHeader(const Step& step, const std::string& target);
  void KeepCookies(const Step& step, const ExchangeResult& result);
  // Bytes of a body that regex checks and extractions search ($.regex_max_bytes).
  size_t RegexMaxBytes() const;
  bool RunCheck(const Check& check, const ExchangeResult& result) const;

  Engine* engine_;
  const CompiledScenarios* compiled_;
  int64_t user_;
  size_t scenario_ = 0;
  size_t step_ = 0;
  int64_t iteration_ = 0;
  std::map<std::string, std::string> vars_;
  CookieJar cookies_;         // this user's, when the plan keeps cookies
  std::string request_path_;  // of the step in flight, for Set-Cookie's default path
  std::mt19937_64 rng_;
  PreparedRequest request_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_SCENARIO_RUNNER_H_
