// The Coordinator's side of live scaling (PATCH /v1/runs/{id}): the run's
// new profile is LoadProfile::Retarget of the one its workers follow, sent
// whole to each of them (ProfileMsg) through the outbox, and recorded as a
// run event. Shares do not move: every worker runs its own classes of the
// new user or arrival indices.
#include <algorithm>
#include <cmath>
#include <string>

#include "common/log.h"
#include "common/share.h"
#include "common/units.h"
#include "daemon/coordinator/coordinator.h"

namespace loadd {

Result<std::string> Coordinator::ScaleRun(const std::string& id,
                                          const ScaleRequest& request,
                                          const StopCheck& may_act, std::string by) {
  Result<std::string> reply = Status(StatusCode::kInternal, "not scaled");
  {
    MutexLock lock(&mu_);
    reply = ScaleRunLocked(id, request, may_act, std::move(by));
  }
  SendAll();
  return reply;
}

Result<std::string> Coordinator::ScaleRunLocked(const std::string& id,
                                                const ScaleRequest& request,
                                                const StopCheck& may_act,
                                                std::string by) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return Status(StatusCode::kNotFound, "no run " + id, "id");
  Run* run = it->second.run.get();
  if (run == nullptr || IsFinal(run->state())) {
    return Status(StatusCode::kFailedPrecondition, "run " + id + " has already ended");
  }
  if (may_act) LOADD_RETURN_IF_ERROR(may_act(run->started_by()));
  if (run->state() != RunState::kStarting && run->state() != RunState::kRunning) {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + id + " is " + RunStateName(run->state()) +
                      "; only a starting or running run can be scaled");
  }
  const Plan& plan = run->plan();
  if (request.model != plan.model) {
    return Status::Invalid(request.path(),
                           plan.model == LoadModel::kOpen
                               ? "run " + id +
                                     " is open-model (arrivals per "
                                     "second): scale it with {\"rate\": R}"
                               : "run " + id +
                                     " is closed-model (users): scale it "
                                     "with {\"users\": N}");
  }
  if (run->events().size() >= Run::kMaxEvents) {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + id + " has been scaled " + std::to_string(Run::kMaxEvents) +
                      " times, the most a run keeps; start a new run");
  }
  const int64_t now = clock_->NowNs();
  const int64_t run_ms = run->RunTimeMs(now);
  // Every worker switches at this run time, so the fleet-wide line is straight.
  const int64_t at_ms = std::max<int64_t>(0, run_ms) + config_.start_delay_ms;
  if (at_ms * kNsPerMs >= plan.duration_ns) {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + id + " ends at run time " +
                      FormatDurationNs(plan.duration_ns) +
                      "; a change now would begin after its end");
  }
  RunEvent event;
  event.by = std::move(by);
  event.requested_ms = std::max<int64_t>(0, run_ms);
  event.at_ms = at_ms;
  event.unit = request.unit();
  event.from = run->profile().ValueAt(at_ms * kNsPerMs);
  event.to = request.value;
  event.ramp_rate = plan.Profile().SteepestRate();
  run->AddScale(event);
  const std::string profile =
      EncodeMessage(ProfileMsg{run->id(), at_ms, run->profile().knots()});
  int64_t sent = 0;
  for (RunWorker* rw : run->CarryingWorkers()) {
    Send(rw->pipe, profile);
    rw->users_assigned = UsersInShare(rw->share, run->UserBound());
    ++sent;
  }
  WakePersister();
  LOG_INFO("run %s: scaled from %g to %g %s at %g/s from run time %lld ms (%lld workers)",
           id.c_str(), event.from, event.to, event.unit.c_str(), event.ramp_rate,
           static_cast<long long>(at_ms), static_cast<long long>(sent));
  return ToJson([&](JsonWriter* w) {
    w->StartObject();
    w->Key("id");
    WriteString(w, id);
    w->Key("event");
    w->StartObject();
    WriteJsonFields(w, event, RunEventFields(), JsonDoc::kApi);
    w->EndObject();
    w->EndObject();
  });
}

}  // namespace loadd
