#include "daemon/coordinator/run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/clock.h"
#include "common/redact.h"
#include "common/units.h"
#include "daemon/coordinator/data_warning.h"

namespace loadd {

void Run::NoteCpu(const std::string& worker_id, double percent, int64_t now_ns) {
  constexpr double kCpuWarnPercent = 90;
  if (percent <= kCpuWarnPercent || now_ns < start_ns_) return;
  int64_t t = (now_ns - start_ns_) / kNsPerSec;
  for (CpuWarning& w : cpu_warnings_) {
    if (w.worker_id == worker_id && t - w.to_s <= 2) {  // the same episode
      ++version_;
      w.to_s = t;
      w.max_percent = std::max(w.max_percent, percent);
      return;
    }
  }
  if (cpu_warnings_.size() < 1000) cpu_warnings_.push_back({worker_id, t, t, percent});
  ++version_;
}

Run::Run(std::string id, Plan plan, int64_t created_ns, int64_t start_ns,
         int64_t created_epoch_ns, RunState initial)
    : id_(std::move(id)),
      plan_(std::move(plan)),
      created_epoch_ns_(created_epoch_ns),
      created_ns_(created_ns),
      start_ns_(start_ns),
      state_(initial) {
  profile_ = plan_.Profile();
}

void Run::AddScale(RunEvent event) {
  int64_t at_ns = event.at_ms * kNsPerMs;
  profile_ = profile_.Retarget(at_ns, event.to, event.ramp_rate);
  events_.push_back(std::move(event));
  Touch();
}

size_t Run::AddWorker(RunWorker worker) {
  workers_.push_back(std::move(worker));
  Touch();
  return workers_.size() - 1;
}

std::vector<RunWorker*> Run::CarryingWorkers() {
  std::vector<RunWorker*> out;
  for (RunWorker& rw : workers_) {
    if (!rw.lost && !rw.final) out.push_back(&rw);
  }
  return out;
}

std::vector<RunWorker*> Run::LostWithShare() {
  std::vector<RunWorker*> out;
  for (RunWorker& rw : workers_) {
    if (rw.lost && !rw.share.empty()) out.push_back(&rw);
  }
  return out;
}

std::vector<RunWorker*> Run::MarkWorkerLost(uint32_t pipe, int64_t now_ns) {
  std::vector<RunWorker*> lost;
  for (RunWorker& rw : workers_) {
    if (rw.pipe == pipe && !rw.final && !rw.lost) {
      rw.lost = true;
      rw.lost_at_ms = RunTimeMs(now_ns);
      rw.users_now = 0;
      lost.push_back(&rw);
    }
  }
  if (!lost.empty()) Touch();
  return lost;
}

bool Run::HadWorker(const std::string& worker_id) const {
  return std::any_of(workers_.begin(), workers_.end(),
                     [&](const RunWorker& rw) { return rw.worker_id == worker_id; });
}

bool Run::SetState(RunState state, int64_t now_ns, std::string message) {
  if (!IsLegalTransition(state_, state)) {
    ReportIllegalTransition(state_, state);
    return false;
  }
  ++version_;
  state_ = state;
  if (!message.empty()) message_ = std::move(message);
  if (IsFinal(state)) {
    if (!end_reason_) end_reason_ = DerivedEndReason();
    end_ns_ = std::max(now_ns, start_ns_);
    CloseSeconds(now_ns, /*all=*/true);
    results_ = EvaluateAll(now_ns);
  }
  return true;
}

double Run::ElapsedSeconds(int64_t now_ns) const {
  int64_t end = end_ns_ != 0 ? end_ns_ : now_ns;
  end = std::min(end, start_ns_ + plan_.duration_ns);
  return std::max<double>(0, static_cast<double>(end - start_ns_) / 1e9);
}

// The statistics go to the merger; the worker's own counters stay here.
void Run::AddStats(RunWorker* worker, const StatsMsg& stats, int64_t now_ns) {
  ++version_;
  stats_.Add(worker->worker_id, stats, now_ns - start_ns_);
  for (const EndpointStats& e : stats.endpoints) worker->requests += e.requests;
  worker->users_now = stats.users;
  worker->cpu_percent = stats.cpu_percent;
  NoteCpu(worker->worker_id, stats.cpu_percent, now_ns);
  if (stats.final) {
    worker->final = true;
    worker->users_now = 0;
  }
}

void Run::CloseSeconds(int64_t now_ns, bool all) {
  if (stats_.CloseSeconds(now_ns - start_ns_, all) > 0) ++version_;
}

RunWorker* Run::Find(const std::string& worker_id) {
  for (RunWorker& rw : workers_) {
    if (rw.worker_id == worker_id && !rw.lost) return &rw;
  }
  return nullptr;
}

bool Run::AllWorkersDone() const {
  return std::all_of(workers_.begin(), workers_.end(),
                     [](const RunWorker& w) { return w.final || w.lost; });
}

int64_t Run::ActiveUsers() const {
  int64_t users = 0;
  for (const RunWorker& w : workers_) {
    if (!w.lost) users += w.users_now;
  }
  return users;
}

std::string Run::Hlog() const {
  return stats_.hlog().Format(static_cast<double>(created_epoch_ns_) / 1e9 +
                              static_cast<double>(start_ns_ - created_ns_) / 1e9);
}

}  // namespace loadd
