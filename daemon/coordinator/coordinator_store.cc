// The Coordinator's side of the run store: loading stored runs at start,
// writing runs as they change, retention, and serving ended runs from the
// store. See coordinator.h and docs/operations.md ("State directory").
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdlib>

#include "common/log.h"
#include "common/redact.h"
#include "daemon/coordinator/coordinator.h"
#include "daemon/coordinator/persist_schedule.h"

namespace loadd {
namespace {

// The counter part of an id "r<unix seconds>-<counter>"; 0 for other ids.
uint64_t RunCounterOf(const std::string& id) {
  size_t dash = id.rfind('-');
  if (dash == std::string::npos) return 0;
  return std::strtoull(id.c_str() + dash + 1, nullptr, 10);
}

}  // namespace

Status Coordinator::LoadStoredRuns() {
  Result<std::vector<std::string>> ids = store_->List();
  if (!ids.ok()) return ids.status();
  size_t loaded = 0;
  for (const std::string& id : *ids) loaded += LoadStoredRun(id);
  std::vector<std::string> expired;
  {
    MutexLock lock(&mu_);
    // Runs inside std::sort, under `lock`; the analysis does not follow lambdas.
    std::sort(run_order_.begin(), run_order_.end(),
              [&](const std::string& a, const std::string& b) NO_THREAD_SAFETY_ANALYSIS {
                int64_t ca = runs_[a].created_epoch_ns, cb = runs_[b].created_epoch_ns;
                return ca != cb ? ca < cb : a < b;
              });
    for (const std::string& id : run_order_) {
      run_counter_ = std::max<uint64_t>(run_counter_, RunCounterOf(id));
      // Queued runs go back in the queue in their order: priority, then
      // creation (run_order_ is sorted by it).
      const Run* run = runs_[id].run.get();
      if (run != nullptr && run->state() == RunState::kQueued) {
        queue_.Add(id, run->plan().priority);
      }
    }
    placement_dirty_ = true;
    expired = ExpiredRuns();
  }
  RemoveFromStore(expired);
  LOG_INFO("run store: %zu of %zu stored runs loaded, %zu past retention removed", loaded,
           ids->size(), expired.size());
  return Status::Ok();
}

void Coordinator::RedactStoredState(const std::string& id, const StoredRun& stored) {
  rapidjson::Document doc;
  doc.Parse(stored.state.data(), stored.state.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("plan")) return;
  RedactPlan(&doc["plan"], &doc.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  Status st = store_->Put(id, std::string(buffer.GetString(), buffer.GetSize()),
                          stored.seconds.size(), {});
  LOG_WARN("run %s: stored plan's secrets %s", id.c_str(),
           st.ok() ? "removed from its state file" : st.ToString().c_str());
}

bool Coordinator::LoadStoredRun(const std::string& id) {
  Result<StoredRun> stored = store_->Get(id);
  if (!stored.ok()) {
    LOG_WARN("skipping stored run %s: %s", store_->Where(id).c_str(),
             stored.status().ToString().c_str());
    return false;
  }
  Result<StoredRunHeader> header = Run::ReadHeader(stored->state);
  if (header.ok() && header->id != id) {
    header = Status::Invalid("id", "holds run " + header->id);
  }
  if (!header.ok()) {
    LOG_WARN("skipping stored run %s/state: %s", store_->Where(id).c_str(),
             header.status().message().c_str());
    return false;
  }
  RunSlot slot;
  slot.created_epoch_ns = header->created_epoch_ns;
  slot.stored_seconds = stored->seconds.size();
  slot.ever_stored = true;
  slot.stored_final = true;
  slot.summary = header->summary;
  // A run that waited in the queue (queued, or waiting for workers) waits
  // again, unless its plan had secrets: the store never holds them, so it
  // cannot run as posted (docs/operations.md, "The run queue").
  if (header->state == RunState::kQueued || header->state == RunState::kWaiting) {
    if (RestoreQueued(id, *stored, &slot)) {
      MutexLock lock(&mu_);
      if (runs_.count(id) != 0) return false;
      runs_[id] = std::move(slot);
      run_order_.push_back(id);
      return true;
    }
  }
  // The coordinator died while driving it: end it as interrupted, with
  // everything the last snapshot held. A run stored with its plan's secrets
  // (by an older coordinator) is written again without them.
  if (!IsFinal(header->state) || header->plan_has_secrets) {
    int64_t now = clock_->NowNs();
    Result<std::unique_ptr<Run>> run = Run::Restore(stored->state, stored->seconds, now);
    if (!run.ok()) {
      LOG_WARN("skipping stored run %s/state: %s", store_->Where(id).c_str(),
               run.status().message().c_str());
      // A plan this version no longer reads (an older regex syntax, say)
      // must not keep its secrets on disk: they go from the JSON itself.
      if (header->plan_has_secrets) RedactStoredState(id, *stored);
      return false;
    }
    if (!IsFinal(header->state)) (*run)->Interrupt(now);
    RunSnapshot snap = (*run)->Snapshot(slot.stored_seconds, now);
    Status st = store_->Put(id, snap.state, slot.stored_seconds, snap.seconds);
    if (!IsFinal(header->state)) {
      LOG_WARN("run %s was %s when the coordinator stopped; now %s: %s", id.c_str(),
               RunStateName(header->state), RunStateName((*run)->state()),
               (*run)->message().c_str());
    } else {
      LOG_INFO("run %s: stored plan rewritten without its secrets", id.c_str());
    }
    if (st.ok()) {
      slot.summary = std::move(snap.summary);
      slot.stored_seconds += snap.seconds.size();
    } else {
      LOG_ERROR("run %s: cannot store it again: %s; kept in memory", id.c_str(),
                st.ToString().c_str());
      slot.stored_final = false;
      slot.run = std::move(*run);
    }
  }
  MutexLock lock(&mu_);
  if (runs_.count(id) != 0) return false;
  runs_[id] = std::move(slot);
  run_order_.push_back(id);
  return true;
}

bool Coordinator::RestoreQueued(const std::string& id, const StoredRun& stored,
                                RunSlot* slot) {
  rapidjson::Document doc;
  doc.Parse(stored.state.data(), stored.state.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("plan") ||
      !RefuseRedacted(doc["plan"]).ok()) {
    LOG_WARN(
        "run %s was queued, but its plan's secrets are not stored: it cannot run "
        "as posted; post it again",
        id.c_str());
    return false;  // interrupted, as an active run
  }
  int64_t now = clock_->NowNs();
  Result<std::unique_ptr<Run>> run = Run::Restore(stored.state, stored.seconds, now);
  if (!run.ok()) return false;
  if ((*run)->state() == RunState::kWaiting) (*run)->SetState(RunState::kQueued, now);
  slot->stored_final = false;
  slot->run = std::move(*run);
  LOG_INFO("run %s: queued again", id.c_str());
  return true;
}

std::vector<Coordinator::PersistJob> Coordinator::DuePuts(int64_t now) {
  // Ended runs the store keeps refusing stay in memory, but not without bound.
  auto unstored = [&](const RunSlot& slot) {
    return slot.run && !slot.stored_final && IsFinal(slot.run->state());
  };
  size_t count = 0;
  for (const std::string& id : run_order_) count += unstored(runs_[id]);
  for (auto it = run_order_.begin();
       count > kMaxUnstoredRuns && it != run_order_.end();) {
    if (unstored(runs_[*it])) {
      LOG_ERROR("run %s: dropped from memory unstored (the store keeps failing)",
                it->c_str());
      runs_.erase(*it);
      it = run_order_.erase(it);
      --count;
    } else {
      ++it;
    }
  }
  std::vector<PersistJob> jobs;
  for (const std::string& id : run_order_) {
    RunSlot& slot = runs_[id];
    Run* run = slot.run.get();
    if (run == nullptr || slot.stored_final) continue;
    bool final = IsFinal(run->state());
    bool changed = run->version() != slot.stored_version;
    // A queued run has no seconds to close: written when it changes only.
    if (run->state() == RunState::kQueued && slot.ever_stored && !changed) continue;
    const PersistSchedule schedule{config_.persist_interval_ms * kNsPerMs};
    if (!schedule.Due({slot.ever_stored, slot.stored_ns, slot.snapshot_cost_ns}, final,
                      changed, now)) {
      continue;
    }
    int64_t started = clock_->NowNs();
    jobs.push_back(PersistJob{id, run->Snapshot(slot.stored_seconds, now),
                              slot.stored_seconds, run->version(), final});
    int64_t last_cost_ns = slot.snapshot_cost_ns;
    slot.snapshot_cost_ns = clock_->NowNs() - started;
    if (PersistSchedule::NewlySlowerThanOncePerSecond(last_cost_ns,
                                                      slot.snapshot_cost_ns)) {
      LOG_WARN(
          "run %s: a snapshot takes %lld ms; it is written every %lld ms, not every "
          "second",
          id.c_str(), static_cast<long long>(slot.snapshot_cost_ns / kNsPerMs),
          static_cast<long long>(PersistSchedule::SpacingNs(slot.snapshot_cost_ns) /
                                 kNsPerMs));
    }
  }
  return jobs;
}

void Coordinator::Persist() {
  MutexLock persist_lock(&persist_mu_);
  std::vector<PersistJob> jobs;
  int64_t now = 0;
  {
    MutexLock lock(&mu_);
    now = clock_->NowNs();
    jobs = DuePuts(now);
  }
  bool ended = false;
  for (PersistJob& job : jobs) {
    Status st =
        store_->Put(job.id, job.snapshot.state, job.first_second, job.snapshot.seconds);
    if (!st.ok()) {
      if (!store_failing_) {
        LOG_ERROR("run %s: cannot store it: %s; retrying", job.id.c_str(),
                  st.ToString().c_str());
      }
      store_failing_ = true;
      continue;
    }
    if (store_failing_) LOG_INFO("run store: writing works again");
    store_failing_ = false;
    MutexLock lock(&mu_);
    auto it = runs_.find(job.id);
    if (it == runs_.end()) continue;
    RunSlot& slot = it->second;
    slot.stored_seconds = job.first_second + job.snapshot.seconds.size();
    slot.stored_version = job.version;
    slot.stored_ns = now;
    slot.ever_stored = true;
    if (job.final) {
      // Ended and stored: from now on it is served from the store.
      slot.stored_final = true;
      slot.summary = std::move(job.snapshot.summary);
      slot.run.reset();
      ended = true;
    }
  }
  if (!ended) return;
  std::vector<std::string> expired;
  {
    MutexLock lock(&mu_);
    expired = ExpiredRuns();
  }
  RemoveFromStore(expired);
}

void Coordinator::WakePersister() {
  MutexLock lock(&wake_mu_);
  persist_due_ = true;
  wake_cv_.Signal();
}

bool Coordinator::WaitPersistDue(int64_t timeout_ms) {
  MutexLock lock(&wake_mu_);
  if (!persist_due_) wake_cv_.WaitForMs(&wake_mu_, timeout_ms);
  bool due = persist_due_;
  persist_due_ = false;
  return due;
}

std::vector<std::string> Coordinator::ExpiredRuns() {
  std::vector<std::string> expired;
  int64_t oldest_ns = WallNowNs() - config_.retention_days * 86400 * kNsPerSec;
  int64_t ended = 0;
  for (const std::string& id : run_order_) ended += runs_[id].stored_final;
  for (auto it = run_order_.begin(); it != run_order_.end();) {  // oldest first
    const RunSlot& slot = runs_[*it];
    if (slot.stored_final &&
        (ended > config_.retention_runs || slot.created_epoch_ns < oldest_ns)) {
      expired.push_back(*it);
      runs_.erase(*it);
      it = run_order_.erase(it);
      --ended;
    } else {
      ++it;
    }
  }
  return expired;
}

void Coordinator::RemoveFromStore(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    Status st = store_->Remove(id);
    if (!st.ok()) {
      LOG_WARN("run %s: past retention but cannot be removed: %s", id.c_str(),
               st.ToString().c_str());
    }
  }
}

Result<std::unique_ptr<Run>> Coordinator::RestoreEnded(const std::string& id) {
  Result<StoredRun> stored = store_->Get(id);
  Result<std::unique_ptr<Run>> run =
      stored.ok() ? Run::Restore(stored->state, stored->seconds, clock_->NowNs())
                  : Result<std::unique_ptr<Run>>(stored.status());
  if (run.ok()) return run;
  if (run.status().code() == StatusCode::kNotFound) {
    return Status(StatusCode::kNotFound, "no run " + id, "id");
  }
  LOG_WARN("stored run %s cannot be read: %s", store_->Where(id).c_str(),
           run.status().ToString().c_str());
  return Status(StatusCode::kInternal, "run " + id + " is stored but cannot be read (" +
                                           run.status().message() +
                                           "); see the coordinator's log");
}

}  // namespace loadd
