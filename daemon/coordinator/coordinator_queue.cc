// The Coordinator's run queue and placement: which workers a new run gets
// (placement.h), the queue of runs whose workers are busy (run_queue.h),
// starting them in order as workers are freed, and giving workers that
// register or are freed to running runs short of their count first. See
// coordinator.h and docs/rest-api.md ("The run queue").
#include <string>
#include <unordered_map>
#include <vector>

#include "common/data_file.h"
#include "common/log.h"
#include "common/share.h"
#include "common/units.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/data_warning.h"

namespace loadd {

Placement Coordinator::PlaceRun(const Run& run) {
  std::vector<PlacementCandidate> live;
  for (const auto& [pipe, w] : fleet_.entries()) {
    if (!w.Live()) continue;
    live.push_back({w.id, w.hello.host, w.hello.instance, w.hello.labels, w.Idle()});
  }
  return Place(run.plan().workers, run.plan().expect_workers, live);
}

void Coordinator::Launch(Run* run, const std::vector<std::string>& worker_ids,
                         int64_t now) {
  std::unordered_map<std::string_view, WorkerEntry*> by_id;
  for (WorkerEntry* w : fleet_.Idle()) by_id.emplace(w->id, w);
  std::vector<WorkerEntry*> chosen;  // in striped order (Place)
  for (const std::string& id : worker_ids) {
    auto found = by_id.find(id);
    if (found != by_id.end()) chosen.push_back(found->second);
  }
  const Plan& plan = run->plan();
  const int64_t n = static_cast<int64_t>(chosen.size());
  run->set_start_ns(now + config_.start_delay_ms * kNsPerMs);
  run->SetState(RunState::kStarting, now);
  run->set_queue_position(0);
  for (int64_t k = 0; k < n; ++k) {
    WorkerEntry& w = *chosen[k];
    RunWorker rw;
    rw.worker_id = w.id;
    rw.host = w.hello.host;
    rw.pipe = w.pipe;
    rw.stripe = k;
    rw.share = {ShareChange{true, n, k, 1, 0, -1}};
    rw.users_assigned = CountInClass(plan.users, n, k);
    if (!plan.data.empty()) rw.data_rows = RowsOfShare(plan.data, n, k);
    w.run_id = run->id();
    w.run_slot = run->AddWorker(rw);
    Send(w.pipe,
         EncodeMessage(AssignMsg{run->id(), plan, rw.share, plan.HandoverRate(),
                                 -config_.start_delay_ms, AllowHostsOf(limits_)}));
  }
  LOG_INFO("run %s: %lld workers assigned (%s)", run->id().c_str(),
           static_cast<long long>(n), DescribeSelector(plan.workers).c_str());
  if (int64_t idle = WorkersWithoutRows(run->workers())) {
    LOG_WARN("run %s: %lld of %lld workers got no row of the data file (%zu rows)",
             run->id().c_str(), static_cast<long long>(idle), static_cast<long long>(n),
             plan.data.row_count);
  }
  WakePersister();
}

void Coordinator::Schedule(int64_t now) {
  placement_dirty_ = false;
  // Strictly in order: a run never starts before one queued ahead of it,
  // so a whole-fleet run is not starved by smaller ones.
  while (!queue_.empty()) {
    RunQueue::Entry head = queue_.entries().front();
    Run* run = FindRun(head.id);
    if (run == nullptr || IsFinal(run->state())) {
      queue_.Remove(head.id);
      continue;
    }
    Placement p = PlaceRun(*run);
    if (p.verdict == PlacementVerdict::kStart) {
      queue_.Remove(head.id);
      Launch(run, p.worker_ids, now);
      continue;
    }
    if (p.verdict == PlacementVerdict::kBusy) {
      if (run->state() == RunState::kWaiting) run->SetState(RunState::kQueued, now);
      queue_.Find(head.id)->waiting_since_ns = -1;
      break;
    }
    // Too few matching workers are live: wait for more, expect_timeout long.
    const Plan& plan = run->plan();
    if (run->state() != RunState::kWaiting) {
      run->SetState(RunState::kWaiting, now);
      queue_.Find(head.id)->waiting_since_ns = now;
      LOG_INFO("run %s: waiting for %lld workers (%s; %lld live)", run->id().c_str(),
               static_cast<long long>(p.needed), DescribeSelector(plan.workers).c_str(),
               static_cast<long long>(p.matching));
    }
    if (now - queue_.Find(head.id)->waiting_since_ns <= plan.expect_timeout_ns) break;
    std::string want = plan.expect_workers > 0
                           ? std::to_string(plan.expect_workers) + " expected workers"
                           : DescribeSelector(plan.workers);
    run->End(EndReason::kNoWorkers, now,
             "only " + std::to_string(p.matching) + " of " + want +
                 " registered within " + FormatDurationNs(plan.expect_timeout_ns) +
                 (plan.expect_workers > 0
                      ? "; start more workers or lower expect_workers"
                      : "; start workers that match, or change $.workers"));
    LOG_WARN("run %s failed: %s", run->id().c_str(), run->message().c_str());
    queue_.Remove(head.id);
    WakePersister();
  }
  const std::vector<RunQueue::Entry>& queued = queue_.entries();
  for (size_t i = 0; i < queued.size(); ++i) {
    if (Run* run = FindRun(queued[i].id))
      run->set_queue_position(static_cast<int64_t>(i) + 1);
  }
}

void Coordinator::FillShortRuns(int64_t now) {
  std::vector<uint32_t> arrivals;
  arrivals.swap(arrivals_);
  std::vector<Run*> placed = PlacedRuns();
  for (uint32_t pipe : arrivals) {
    WorkerEntry* w = fleet_.Find(pipe);
    if (w == nullptr || !w->Idle()) continue;
    for (Run* run : placed) {
      if (run->state() == RunState::kStopping) continue;
      const WorkerSelector& want = run->plan().workers;
      if (!LabelsMatch(want.labels, w->hello.labels) || run->HadWorker(w->id)) continue;
      if (want.count > 0 &&
          static_cast<int64_t>(run->CarryingWorkers().size()) >= want.count) {
        continue;
      }
      Join(run, w, now);
      if (!w->Idle()) break;  // joined
    }
  }
}

void Coordinator::Settle(int64_t now, bool always) {
  if (!arrivals_.empty()) {
    FillShortRuns(now);
    placement_dirty_ = true;
  }
  if (placement_dirty_ || (always && !queue_.empty())) Schedule(now);
}

Status Coordinator::Enqueue(std::unique_ptr<Run> run, int64_t now) {
  const Plan& plan = run->plan();
  Placement p = PlaceRun(*run);
  if (p.verdict == PlacementVerdict::kNoMatch) {
    if (plan.workers.labels.empty()) {
      return Status(StatusCode::kFailedPrecondition,
                    "no live workers: start `loadd worker` processes pointed at this "
                    "coordinator's bus, or use `loadctl start --local`");
    }
    return Status(StatusCode::kFailedPrecondition,
                  "no live worker has the labels " + FormatLabels(plan.workers.labels) +
                      ": start workers with those --label flags, or change the plan",
                  "$.workers.labels");
  }
  const std::string id = run->id();
  const bool may_queue = plan.queue;
  RunSlot& slot = runs_[id];
  slot.created_epoch_ns = run->created_epoch_ns();
  slot.run = std::move(run);
  run_order_.push_back(id);
  queue_.Add(id, plan.priority);
  size_t ahead = queue_.Position(id) - 1;
  Schedule(now);
  if (slot.run->state() != RunState::kQueued) return Status::Ok();
  Status refused;
  if (!may_queue) {
    refused = Status(
        StatusCode::kFailedPrecondition,
        "not queued: the workers it asks for (" +
            DescribeSelector(slot.run->plan().workers) + ") are busy" +
            (ahead > 0 ? " or " + std::to_string(ahead) + " run(s) are queued ahead of it"
                       : "") +
            ", and $.queue is false (loadctl start --no-queue)",
        kQueueFieldPath);
  } else if (static_cast<int64_t>(queue_.size()) > config_.max_queued) {
    refused = Status(StatusCode::kResourceExhausted,
                     "the run queue is full: " + std::to_string(config_.max_queued) +
                         " runs wait for workers (--max-queued " +
                         std::to_string(config_.max_queued) +
                         "); nothing changed, try again when runs have ended",
                     kMaxQueuedFlag);
  }
  if (refused.ok()) return refused;
  queue_.Remove(id);
  runs_.erase(id);
  run_order_.pop_back();
  Schedule(now);  // positions as they were
  return refused;
}

void Coordinator::Cancel(Run* run, int64_t now) {
  bool queued = run->state() == RunState::kQueued;
  queue_.Remove(run->id());
  run->set_queue_position(0);
  run->End(EndReason::kStopped, now,
           queued ? "cancelled while queued" : "stopped while waiting for workers");
  placement_dirty_ = true;
  WakePersister();
}

}  // namespace loadd
