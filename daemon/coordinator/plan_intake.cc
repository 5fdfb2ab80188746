#include "daemon/coordinator/plan_intake.h"

#include <utility>

namespace loadd {

PlanIntake::PlanIntake(size_t max_queued)
    : max_queued_(max_queued), thread_([this] { Loop(); }) {}

PlanIntake::~PlanIntake() { Stop(); }

bool PlanIntake::Submit(Job job) {
  MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= max_queued_) return false;
  queue_.push_back(std::move(job));
  wake_.Signal();
  return true;
}

void PlanIntake::Stop() {
  std::deque<Job> dropped;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(queue_);
    wake_.SignalAll();
  }
  dropped.clear();  // outside the lock: a job's destructor may answer
  if (thread_.joinable()) thread_.join();
}

void PlanIntake::Loop() {
  for (;;) {
    Job job;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) wake_.Wait(&mu_);
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

}  // namespace loadd
