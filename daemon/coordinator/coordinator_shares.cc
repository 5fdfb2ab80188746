// The Coordinator's side of shares: when a worker of a running run is lost
// or a new one joins, it asks common/share.h how the users or arrivals move,
// records the new shares and sends each worker its changes. The arithmetic
// itself is pure and lives in common/share.{h,cc}.
#include <algorithm>
#include <string>
#include <vector>

#include "common/data_file.h"
#include "common/log.h"
#include "common/share.h"
#include "daemon/coordinator/coordinator.h"

namespace loadd {

void Coordinator::RedealLost(Run* run, int64_t now) {
  std::vector<RunWorker*> lost = run->LostWithShare();
  if (!lost.empty()) Redeal(run, lost, now);
}

bool Coordinator::Rebalanceable(const Run& run, int64_t now) const {
  return (run.state() == RunState::kStarting || run.state() == RunState::kRunning) &&
         run.RunTimeMs(now) < run.plan().duration_ns / kNsPerMs - 1000;
}

void Coordinator::Redeal(Run* run, const std::vector<RunWorker*>& leaving, int64_t now) {
  // The leaving are lost or final already, so never their own heirs.
  std::vector<RunWorker*> heirs = run->CarryingWorkers();
  const int64_t users = run->UserBound();
  std::vector<Share> leaving_shares, heir_shares;
  for (const RunWorker* rw : leaving) leaving_shares.push_back(rw->share);
  for (const RunWorker* rw : heirs) heir_shares.push_back(rw->share);
  auto forget_leaving = [&leaving] {
    for (RunWorker* rw : leaving) {
      rw->share.clear();
      rw->users_assigned = 0;
    }
  };
  if (Orphans(leaving_shares, users).empty()) {  // only classes without users
    forget_leaving();
    return;
  }
  // Kept: a lost worker's share is tried again next tick (RedealLost).
  if (heirs.empty() || !Rebalanceable(*run, now)) return;
  run->Touch();
  int64_t at_ms = std::max<int64_t>(0, run->RunTimeMs(now) + config_.start_delay_ms);
  Deal deal =
      DealOut(leaving_shares, heir_shares, users, at_ms, run->plan().HandoverRate());
  size_t dealt_to = 0;
  for (size_t j = 0; j < heirs.size(); ++j) {
    const Share& gains = deal.gains[j];
    if (gains.empty()) continue;
    ++dealt_to;
    heirs[j]->share.insert(heirs[j]->share.end(), gains.begin(), gains.end());
    heirs[j]->users_assigned += UsersInShare(gains, users);
    // A message holds at most kMaxShareChanges changes (common/wire.h).
    for (size_t from = 0; from < gains.size(); from += kMaxShareChanges) {
      size_t to = std::min(gains.size(), from + kMaxShareChanges);
      Share chunk(gains.begin() + from, gains.begin() + to);
      Send(heirs[j]->pipe,
           EncodeMessage(ReshareMsg{run->id(), std::move(chunk), deal.rate}));
    }
  }
  if (leaving.size() == 1) {
    LOG_INFO("run %s: %s's share dealt out to %zu workers", run->id().c_str(),
             leaving[0]->worker_id.c_str(), dealt_to);
  } else {
    LOG_INFO("run %s: the shares of %zu workers dealt out to %zu workers",
             run->id().c_str(), leaving.size(), dealt_to);
  }
  forget_leaving();
}

void Coordinator::Join(Run* run, WorkerEntry* w, int64_t now) {
  constexpr size_t kMaxClasses = 256;  // past this, the newcomer waits for the next run
  std::vector<RunWorker*> donors = run->CarryingWorkers();
  for (const RunWorker* rw : donors) {
    if (rw->pipe == w->pipe) return;  // already in the run
  }
  if (donors.empty() || !Rebalanceable(*run, now)) return;
  run->Touch();
  std::vector<Share> donor_shares;
  for (const RunWorker* d : donors) donor_shares.push_back(d->share);
  int64_t at_ms = std::max<int64_t>(0, run->RunTimeMs(now) + config_.start_delay_ms);
  JoinSplit join;
  const int64_t users = run->UserBound();
  if (!SplitForNewcomer(donor_shares, users, at_ms, run->plan().HandoverRate(),
                        kMaxClasses, &join)) {
    LOG_WARN("run %s: shares too fragmented to give %s a part; it joins the next run",
             run->id().c_str(), w->id.c_str());
    return;
  }
  for (size_t i = 0; i < donors.size(); ++i) {
    donors[i]->share = join.kept[i];
    donors[i]->users_assigned = UsersInShare(join.kept[i], users);
    Send(donors[i]->pipe,
         EncodeMessage(ReshareMsg{run->id(), join.removals[i], join.rate}));
  }
  RunWorker rw;
  rw.worker_id = w->id;
  rw.host = w->hello.host;
  rw.pipe = w->pipe;
  rw.stripe = static_cast<int64_t>(run->workers().size());
  rw.share = join.taken;
  rw.users_assigned = UsersInShare(join.taken, users);
  if (!run->plan().data.empty() && !join.taken.empty()) {
    rw.data_rows =
        RowsOfShare(run->plan().data, join.taken[0].modulus, join.taken[0].residue);
  }
  w->run_id = run->id();
  Send(w->pipe, EncodeMessage(AssignMsg{run->id(), run->plan(), join.taken, join.rate,
                                        run->RunTimeMs(now), AllowHostsOf(limits_)}));
  if (!run->events().empty()) {  // scaled: the profile the others follow
    Send(w->pipe,
         EncodeMessage(ProfileMsg{run->id(), std::max<int64_t>(0, run->RunTimeMs(now)),
                                  run->profile().knots()}));
  }
  w->run_slot = run->AddWorker(std::move(rw));
  LOG_INFO("run %s: %s joins with a share from %zu workers", run->id().c_str(),
           w->id.c_str(), donors.size());
}

}  // namespace loadd
