#include "daemon/worker/closed_driver.h"

#include <algorithm>

#include "common/clock.h"
#include "daemon/worker/engine.h"

namespace loadd {
namespace {

constexpr int64_t kLocalFailureBackoffNs = 10 * kNsPerMs;

}  // namespace

// One fleet-wide user index this worker owns (or owned, or will own).
class ClosedDriver::UserSlot final : public ExchangeOwner, public TimerHandler {
 public:
  UserSlot(ClosedDriver* d, int64_t index)
      : d_(d),
        toggles_(d->profile_.UserToggles(index)),
        timer_(this, d->engine_),
        index_(index),
        rotation_pos_(index) {
    if (const CompiledScenarios* compiled = d->engine_->scenarios()) {
      runner_ = std::make_unique<ScenarioRunner>(d->engine_, compiled, index);
      runner_->Assign(index);  // a user keeps its scenario for the whole run
    }
  }

  // The profile changed (live scaling): toggles from the new one.
  void Retoggle() { toggles_ = d_->profile_.UserToggles(index_); }

  void Own(int64_t from_ns, int64_t until_ns) {
    own_from_ns_ = from_ns;
    own_until_ns_ = until_ns;
  }
  void GiveUpAt(int64_t until_ns) { own_until_ns_ = std::min(own_until_ns_, until_ns); }

  // Brings the user to the state run time `now` calls for, and arms the
  // timer for the next change.
  void Evaluate() {
    int64_t now = d_->engine_->loop()->NowNs();
    int64_t t = now - d_->run_start_ns_;
    if (thinking_ && now >= think_until_ns_) thinking_ = false;
    bool want = !d_->ending_ && t >= own_from_ns_ && t < own_until_ns_ && ProfileOn(t);
    if (want && !active_) {
      active_ = true;
      ++d_->active_;
    } else if (!want && active_) {
      active_ = false;
      --d_->active_;
      if (conn_ && !conn_->busy()) conn_->Close();
    }
    if (active_ && !thinking_ && !(conn_ && conn_->busy())) Next();
    int64_t next = NextChangeAfter(t);
    if (thinking_) next = std::min(next, think_until_ns_ - d_->run_start_ns_);
    if (next != kForever) d_->engine_->loop()->Arm(&timer_, d_->run_start_ns_ + next);
  }

  void OnTimer() override { Evaluate(); }

  // Evaluate() on the loop, soon: thousands of users starting at once are
  // spread over loop iterations (EventLoop::kMaxTimersPerBatch), so the
  // heartbeat is not stuck behind one long burst of connects.
  void EvaluateSoon() { d_->engine_->loop()->Arm(&timer_, d_->engine_->loop()->NowNs()); }

  void OnExchangeDone(Connection*, const ExchangeResult& result) override {
    --d_->busy_;
    if (runner_ && !runner_->OnStepDone(result)) {
      // The iteration is over: think before the next one.
      int64_t now = d_->engine_->loop()->NowNs();
      int64_t think = runner_->ThinkNs(iteration_start_ns_, now);
      if (think > 0) {
        thinking_ = true;
        think_until_ns_ = now + think;
        d_->engine_->loop()->Arm(&timer_, think_until_ns_);
      }
    }
    if (!active_) {
      conn_->Close();
      d_->engine_->MaybeDone();
    } else if (in_exchange_) {
      // Failed before Exchange() returned (out of sockets or ports, no
      // route): go on from the loop after a pause, never by recursion.
      d_->engine_->loop()->Arm(&timer_,
                               d_->engine_->loop()->NowNs() + kLocalFailureBackoffNs);
    } else if (!thinking_) {
      Next();
    }
  }

  void Interrupt() {
    if (conn_ && conn_->busy()) --d_->busy_;
    if (conn_) conn_->Interrupt();
    if (active_) {
      active_ = false;
      --d_->active_;
    }
    d_->engine_->loop()->Disarm(&timer_);
  }

 private:
  bool ProfileOn(int64_t t) const {
    bool on = false;
    for (auto [when, state] : toggles_) {
      if (when > t) break;
      on = state;
    }
    return on;
  }

  int64_t NextChangeAfter(int64_t t) const {
    int64_t next = kForever;
    for (int64_t c : {own_from_ns_, own_until_ns_}) {
      if (c > t) next = std::min(next, c);
    }
    for (auto [when, state] : toggles_) {
      if (when > t) {
        next = std::min(next, when);
        break;
      }
    }
    return next;
  }

  void Next() {
    if (!conn_) conn_ = d_->engine_->NewConnection(this);
    ++d_->busy_;
    in_exchange_ = true;
    if (runner_) {
      if (runner_->at_first_step()) iteration_start_ns_ = d_->engine_->loop()->NowNs();
      const PreparedRequest* request = runner_->RenderStep();
      if (request == nullptr) {  // out of data rows: this user is done
        --d_->busy_;
        in_exchange_ = false;
        own_until_ns_ = kSinceStart + 1;
        active_ = false;
        --d_->active_;
        conn_->Close();
        d_->engine_->MaybeDone();
        return;
      }
      conn_->Exchange(request, 0);
    } else {
      conn_->Exchange(d_->engine_->request(d_->engine_->NextRequestIndex(&rotation_pos_)),
                      0);
    }
    in_exchange_ = false;
  }

  ClosedDriver* d_;
  std::vector<std::pair<int64_t, bool>> toggles_;
  Timer timer_;
  int64_t index_;
  int64_t rotation_pos_;
  int64_t own_from_ns_ = kSinceStart;
  int64_t own_until_ns_ = kForever;
  bool active_ = false;
  bool in_exchange_ = false;
  bool thinking_ = false;
  int64_t think_until_ns_ = 0;
  int64_t iteration_start_ns_ = 0;
  std::unique_ptr<ScenarioRunner> runner_;
  std::unique_ptr<Connection> conn_;
};

ClosedDriver::ClosedDriver(Engine* engine, LoadProfile profile, int64_t users)
    : engine_(engine), profile_(std::move(profile)), users_(users) {}

ClosedDriver::~ClosedDriver() = default;

ClosedDriver::UserSlot* ClosedDriver::SlotFor(int64_t index) {
  auto& slot = slots_[index];
  if (!slot) slot = std::make_unique<UserSlot>(this, index);
  return slot.get();
}

void ClosedDriver::Start(int64_t run_start_ns) {
  run_start_ns_ = run_start_ns;
  started_ = true;
  for (auto& [index, slot] : slots_) slot->EvaluateSoon();
}

void ClosedDriver::Apply(const std::vector<ShareChange>& changes, double handover_rate) {
  for (const ShareChange& change : changes) {
    OwnedClass cls = OwnedClass::From(change, handover_rate);
    changes_.push_back({change.add, cls});
    if (change.add) {
      for (int64_t i = cls.residue; i < users_; i += cls.modulus) {
        SlotFor(i)->Own(cls.HandoverNs(i), kForever);
      }
    } else {
      for (auto& [i, slot] : slots_) {
        if (cls.Contains(i)) slot->GiveUpAt(cls.HandoverNs(i));
      }
    }
  }
  if (!started_) return;
  for (auto& [index, slot] : slots_) slot->EvaluateSoon();
}

void ClosedDriver::AddSlots(int64_t from, int64_t to) {
  for (const Change& c : changes_) {
    if (!c.add) continue;
    int64_t first =
        from + ((c.cls.residue - from) % c.cls.modulus + c.cls.modulus) % c.cls.modulus;
    for (int64_t i = first; i < to; i += c.cls.modulus) {
      if (slots_.count(i) != 0) continue;
      UserSlot* slot = SlotFor(i);
      for (const Change& h : changes_) {  // as Apply would have, in order
        if (!h.cls.Contains(i)) continue;
        if (h.add) {
          slot->Own(h.cls.HandoverNs(i), kForever);
        } else {
          slot->GiveUpAt(h.cls.HandoverNs(i));
        }
      }
    }
  }
}

void ClosedDriver::SetProfile(LoadProfile profile) {
  profile_ = std::move(profile);
  for (auto& [index, slot] : slots_) slot->Retoggle();
  int64_t bound = std::max(users_, profile_.UserBound());
  AddSlots(users_, bound);
  users_ = bound;
  if (!started_) return;
  for (auto& [index, slot] : slots_) slot->EvaluateSoon();
}

void ClosedDriver::OnEnding() {
  ending_ = true;
  for (auto& [index, slot] : slots_) slot->Evaluate();
}

void ClosedDriver::Abort() {
  ending_ = true;
  for (auto& [index, slot] : slots_) slot->Interrupt();
}

}  // namespace loadd
