// PlanIntake: one thread that parses the plans posted to POST /v1/runs and
// creates their runs, one at a time, so that the REST threads only receive
// bytes and answer (GET /healthz is never queued behind a parse). A parse
// is linear in the plan's size (about 20 ms per MiB on one core, the data
// file's CSV checked once), and the bytes waiting for this thread are
// bounded by the body budget (body_budget.h), so a job waits at most for
// --max-parsing-bytes worth of parsing.
//
// The queue holds at most max_queued jobs; Submit refuses more (the caller
// answers 503). Thread-safe.
#ifndef LOADD_DAEMON_COORDINATOR_PLAN_INTAKE_H_
#define LOADD_DAEMON_COORDINATOR_PLAN_INTAKE_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>

#include "common/mutex.h"

namespace loadd {

class PlanIntake {
 public:
  using Job = std::function<void()>;

  explicit PlanIntake(size_t max_queued);
  ~PlanIntake();  // Stop()
  PlanIntake(const PlanIntake&) = delete;
  PlanIntake& operator=(const PlanIntake&) = delete;

  // Queues the job; false (and the job is not run) when max_queued jobs
  // wait already or Stop() was called.
  bool Submit(Job job);
  // Lets the running job finish, drops the queued ones (destroying them,
  // so whatever they hold is given back) and joins the thread.
  void Stop();

 private:
  void Loop();

  const size_t max_queued_;
  Mutex mu_;
  CondVar wake_;
  std::deque<Job> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_PLAN_INTAKE_H_
