#include "ctl/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "common/plan.h"
#include "common/redact.h"
#include "common/units.h"
#include "ctl/api_calls.h"
#include "ctl/compare_command.h"
#include "ctl/report.h"
#include "ctl/report_command.h"
#include "ctl/start_command.h"

namespace loadd {
namespace {

void DefineEnv(CLI::App* c, Options* o) {
  c->add_option("--env", "Set {{env.KEY}} for the plan's templates (repeatable)")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      // Collected one by one: bound to a vector, a lone "" would vanish.
      ->each([o](const std::string& value) { o->plan.env.push_back(value); });
}

void DefineFileMode(CLI::App* c, Options* o) {
  c->add_option("--mode", o->file_mode,
                "Permissions of the files written, in octal (default 0600: owner only)")
      ->type_name("OCTAL");
}

void DefineStart(CLI::App* c, Options* o) {
  c->add_option("PLAN", o->plan.plan_file,
                "Plan file (default: ./loadplan.json, else a plan built from the flags)");
  c->add_option("-u,--users", o->plan.users,
                "Concurrent users, fleet-wide (e.g. 200, 10k)")
      ->type_name("N");
  c->add_option("-r,--spawn-rate", o->plan.spawn_rate, "Users started per second")
      ->type_name("R");
  c->add_option(
       "--arrival-rate", o->plan.arrival_rate,
       "Open model: iterations started per second, fleet-wide (replaces --users)")
      ->type_name("R");
  c->add_option("--max-in-flight", o->plan.max_in_flight,
                "Open model: iterations in flight at most, fleet-wide (default 1000)")
      ->type_name("N");
  c->add_option("-t,--duration", o->plan.duration,
                "How long the load runs (e.g. 30s, 5m)")
      ->type_name("DURATION");
  c->add_option("--target", o->plan.target, "Base URL; without a plan, GET this URL")
      ->type_name("URL");
  c->add_option("--timeout", o->plan.timeout, "Per-request timeout (e.g. 10s)")
      ->type_name("DURATION");
  c->add_option("--name", o->plan.name, "Run name (replaces the plan's $.name)");
  c->add_option("--label",
                "Label of the run, e.g. --label branch=main (repeatable; sets "
                "$.labels.KEY)")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      // One value each, so `--label a=b plan.json` leaves PLAN alone.
      ->each([o](const std::string& value) { o->plan.labels.push_back(value); });
  c->add_option("--expect-workers", o->plan.expect_workers,
                "Wait for this many live workers before starting")
      ->type_name("N");
  c->add_option("--expect-timeout", o->plan.expect_timeout,
                "Fail the run if they are not there within this long (default 60s)")
      ->type_name("DURATION");
  c->add_flag("--detach", o->detach, "Print the run id and exit; do not wait");
  c->add_flag("--no-queue", o->plan.no_queue,
              "Fail at once (exit 5) if the run's workers are busy, rather than wait "
              "in the coordinator's run queue (sets $.queue false)");
  c->add_flag("--no-color", o->no_color,
              "Plain progress lines, no colours or redrawing, even on a terminal "
              "(also: NO_COLOR set, TERM=dumb)");
  c->add_flag("--local", o->local, "Run on a fleet started on this machine for this run");
  DefineEnv(c, o);
  c->add_option("--out", o->out_file, "Also write the final run JSON to FILE")
      ->type_name("FILE");
  c->add_option("--junit", o->junit_file,
                "Also write the thresholds and checks as JUnit XML to FILE")
      ->type_name("FILE");
  DefineFileMode(c, o);
}

void DefineOptionalRun(CLI::App* c, Options* o) {
  c->add_option("RUN", o->run_id, "Run id (default: the newest run)");
}

void DefineStopRun(CLI::App* c, Options* o) {
  c->add_option("RUN", o->run_id, "Run id (default: the active run)");
}

void DefineScale(CLI::App* c, Options* o) {
  c->add_option("RUN", o->run_id, "Run id (default: the active run)");
  c->add_option("-u,--users", o->scale_users,
                "Closed model: move to N users at the plan's spawn rate (e.g. 300, 10k)")
      ->type_name("N");
  c->add_option("--rate", o->scale_rate,
                "Open model: move to R arrivals per second at the plan's ramp rate")
      ->type_name("R");
}

void DefineReport(CLI::App* c, Options* o) {
  c->add_option("RUN", o->run_id, "Run id")->required();
  c->add_option("--format", o->format,
                "table (default), json, csv, csv-history, hlog, junit or html")
      ->type_name("FORMAT");
  c->add_option("-o,--output,--out", o->output_file, "Write to FILE instead of stdout")
      ->type_name("FILE");
  DefineFileMode(c, o);
}

void DefineCompare(CLI::App* c, Options* o) {
  c->add_option("BASE", o->run_id, "The base run's id (e.g. the main branch's)")
      ->required();
  c->add_option("CANDIDATE", o->candidate_id, "The candidate run's id")->required();
  c->add_option("--min-change", o->min_change_pct,
                "Smallest change in percent that counts as one (default 5)")
      ->type_name("PERCENT");
  c->add_flag("--include-ramp", o->include_ramp,
              "Compare every second, ramps included (default: steady state only)");
  c->add_option("--format", o->format, "table (default), json or markdown")
      ->type_name("FORMAT");
  c->add_flag("--fail-on-worse", o->fail_on_worse,
              "Exit 1 when any verdict is worse (slower, fewer requests/s, more errors)");
  c->add_flag("--no-color", o->no_color, "No colours, even on a terminal");
}

void DefineNothing(CLI::App*, Options*) {}

void DefineRuns(CLI::App* c, Options* o) {
  c->add_option("--label", o->run_labels,
                "Only runs with this label, e.g. --label branch=main (repeatable: "
                "all must match)")
      ->type_name("KEY=VALUE");
  c->add_option("--state", o->run_states,
                "Only runs in this state, e.g. --state finished (repeatable: any "
                "may match)")
      ->type_name("STATE");
}

// The filter of `loadctl runs`: the label rules here, the state names at
// the coordinator (which knows them).
Result<RunFilter> RunsFilterOf(const Options& options) {
  RunFilter filter;
  for (const std::string& label : options.run_labels) {
    LOADD_RETURN_IF_ERROR(AddFilterLabels(label, "--label", &filter));
  }
  for (const std::string& state : options.run_states) {
    LOADD_RETURN_IF_ERROR(AddFilterStates(state, "--state", nullptr, "", &filter));
  }
  return filter;
}

void DefineValidate(CLI::App* c, Options* o) {
  c->add_option("PLAN", o->plan.plan_file, "Plan file")->required();
  DefineEnv(c, o);
}

void PrintJson(const JsonReply& reply, Env* env) { *env->out << reply.body << '\n'; }

// RUN as given, else the newest run from GET /v1/runs (with active_only, the
// newest whose state is not final).
Result<std::string> PickRun(ApiClient* api, const std::string& given, bool active_only,
                            const char* for_what = "stop") {
  if (!given.empty()) return given;
  JsonReply reply;
  std::vector<RunSummary> runs;
  LOADD_RETURN_IF_ERROR(FetchRuns(api, &reply, &runs));
  for (const RunSummary& run : runs) {
    if (!active_only || !IsFinalState(run.state)) return run.id;
  }
  if (active_only) {
    return Status(StatusCode::kFailedPrecondition,
                  std::string("no active run to ") + for_what);
  }
  return Status(StatusCode::kNotFound, "no runs yet");
}

Result<Outcome> RunStatus(const Options& options, Env* env) {
  Result<ApiClient*> api = env->connector->Connect();
  if (!api.ok()) return api.status();
  Result<std::string> id = PickRun(*api, options.run_id, /*active_only=*/false);
  if (!id.ok()) return id.status();
  JsonReply reply;
  RunView run;
  LOADD_RETURN_IF_ERROR(FetchRun(*api, *id, /*timeline=*/false, &reply, &run));
  if (options.json) {
    PrintJson(reply, env);
  } else {
    *env->out << FormatRunSummary(run);
  }
  return Outcome::kSuccess;
}

Result<Outcome> RunStop(const Options& options, Env* env) {
  Result<ApiClient*> api = env->connector->Connect();
  if (!api.ok()) return api.status();
  Result<std::string> id = PickRun(*api, options.run_id, /*active_only=*/true);
  if (!id.ok()) return id.status();
  JsonReply reply;
  LOADD_RETURN_IF_ERROR(StopRun(*api, *id, &reply));
  if (options.json) {
    PrintJson(reply, env);
  } else {
    *env->out << "Stopping run " << *id << '\n';
  }
  return Outcome::kSuccess;
}

// The PATCH body from --users or --rate (exactly one), checked before any
// request; the coordinator checks it again against the run.
Result<std::string> ScaleBody(const Options& options) {
  if (options.scale_users.empty() == options.scale_rate.empty()) {
    return Status::Invalid("--users",
                           "give --users N (closed model) or --rate R (open "
                           "model, arrivals per second), one of them");
  }
  if (!options.scale_users.empty()) {
    Result<int64_t> users = ParseCount(options.scale_users);
    if (!users.ok() || *users < 0 || *users > Plan::kMaxUsers) {
      return Status::Invalid("--users",
                             "must be a number of users from 0 to 10000000 "
                             "(e.g. 300, 10k), got \"" +
                                 options.scale_users + "\"");
    }
    return "{\"users\":" + std::to_string(*users) + "}";
  }
  char* end = nullptr;
  double rate = std::strtod(options.scale_rate.c_str(), &end);
  if (end == options.scale_rate.c_str() || *end != '\0' || !(rate >= 0) ||
      rate > Plan::kMaxRate) {
    return Status::Invalid("--rate",
                           "must be arrivals per second from 0 to 10000000, got \"" +
                               options.scale_rate + "\"");
  }
  char body[64];
  std::snprintf(body, sizeof body, "{\"rate\":%.17g}", rate);
  return std::string(body);
}

Result<Outcome> RunScale(const Options& options, Env* env) {
  Result<std::string> body = ScaleBody(options);
  if (!body.ok()) return body.status();
  Result<ApiClient*> api = env->connector->Connect();
  if (!api.ok()) return api.status();
  Result<std::string> id = PickRun(*api, options.run_id, /*active_only=*/true, "scale");
  if (!id.ok()) return id.status();
  JsonReply reply;
  LOADD_RETURN_IF_ERROR(ScaleRun(*api, *id, *body, &reply));
  if (options.json) {
    PrintJson(reply, env);
    return Outcome::kSuccess;
  }
  RunEvent event;
  auto it = reply.doc.FindMember("event");
  if (it != reply.doc.MemberEnd() && it->value.IsObject()) {
    LenientJsonReader r;
    ReadJsonFields(&r, it->value, &event, RunEventFields(), JsonDoc::kApi);
  }
  *env->out << "Scaling run " << *id << ": " << FormatRunEvent(event) << '\n';
  return Outcome::kSuccess;
}

Result<Outcome> RunWorkers(const Options& options, Env* env) {
  Result<ApiClient*> api = env->connector->Connect();
  if (!api.ok()) return api.status();
  JsonReply reply;
  std::vector<WorkerView> workers;
  LOADD_RETURN_IF_ERROR(FetchWorkers(*api, &reply, &workers));
  if (options.json) {
    PrintJson(reply, env);
  } else {
    *env->out << (workers.empty() ? "No workers.\n" : FormatWorkersTable(workers));
  }
  return Outcome::kSuccess;
}

Result<Outcome> RunRuns(const Options& options, Env* env) {
  Result<RunFilter> filter = RunsFilterOf(options);
  if (!filter.ok()) return filter.status();
  Result<ApiClient*> api = env->connector->Connect();
  if (!api.ok()) return api.status();
  JsonReply reply;
  std::vector<RunSummary> runs;
  LOADD_RETURN_IF_ERROR(FetchRuns(*api, &reply, &runs, *filter));
  if (options.json) {
    PrintJson(reply, env);
  } else {
    *env->out << (runs.empty() ? "No runs.\n" : FormatRunsTable(runs));
  }
  return Outcome::kSuccess;
}

// Offline: never contacts a coordinator. --json prints the normalized plan,
// its secrets redacted as every view shows them (common/redact.h).
Result<Outcome> RunValidate(const Options& options, Env* env) {
  PlanFlags file_only;
  file_only.plan_file = options.plan.plan_file;
  file_only.env = options.plan.env;
  Result<ResolvedPlan> plan = ResolvePlan(file_only, env->files);
  if (!plan.ok()) return plan.status();
  *env->out << (options.json ? RedactedPlanJson(plan->plan) : "ok") << '\n';
  return Outcome::kSuccess;
}

constexpr Command kCommands[] = {
    {"start", "Start a run and watch it to the end (or --detach)", DefineStart, RunStart,
     true},
    {"status", "Summary of a run (default: the newest)", DefineOptionalRun, RunStatus,
     false},
    {"stop", "Stop a run (default: the active one)", DefineStopRun, RunStop, false},
    {"scale", "Move a running run to N users or R arrivals/s (default: the active one)",
     DefineScale, RunScale, false},
    {"workers", "List the fleet's workers", DefineNothing, RunWorkers, false},
    {"runs", "List runs, newest first (--label, --state filter)", DefineRuns, RunRuns,
     false},
    {"report", "Print a run's report (or JSON, CSV, hlog, JUnit)", DefineReport,
     RunReport, false},
    {"validate", "Check a plan file offline", DefineValidate, RunValidate, false},
    {"compare", "Compare two runs with statistics (slower? faster?)", DefineCompare,
     RunCompare, false},
};

}  // namespace

std::span<const Command> Commands() { return kCommands; }

}  // namespace loadd
