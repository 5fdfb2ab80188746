#include "daemon/worker/open_driver.h"

#include <algorithm>
#include <cmath>

#include "common/clock.h"
#include "daemon/worker/engine.h"

namespace loadd {

OpenDriver::OpenDriver(Engine* engine, LoadProfile profile, int64_t max_in_flight)
    : engine_(engine),
      profile_(std::move(profile)),
      max_in_flight_(max_in_flight),
      timer_(this, engine) {}

OpenDriver::~OpenDriver() = default;

void OpenDriver::UpdateCap() {
  double fraction = 0;
  for (const Grant& g : grants_) {
    fraction += ClassWeight(/*users=*/0, g.cls.modulus, g.cls.residue);
  }
  cap_ = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(static_cast<double>(max_in_flight_) * fraction)));
}

bool OpenDriver::GivenAway(const Grant& g, int64_t m, int64_t t_ns) const {
  for (const OwnedClass& ex : g.given_away) {
    if (ex.Contains(m) && t_ns >= ex.StartNs()) return true;
  }
  return false;
}

// Moves g to its next arrival that is still this worker's.
void OpenDriver::Advance(Grant* g) {
  for (;;) {
    int64_t t = profile_.ArrivalTime(g->next_m, &g->segment);
    if (t < 0) {
      g->next_ns = -1;
      return;
    }
    if (t >= g->cls.StartNs() && !GivenAway(*g, g->next_m, t)) {
      g->next_ns = t;
      return;
    }
    g->next_m += g->cls.modulus;
  }
}

void OpenDriver::Apply(const std::vector<ShareChange>& changes, double handover_rate) {
  for (const ShareChange& change : changes) {
    OwnedClass cls = OwnedClass::From(change, handover_rate);
    if (change.add) {
      Grant g;
      g.cls = cls;
      g.next_m = cls.residue;
      Advance(&g);
      grants_.push_back(g);
    } else {
      for (Grant& g : grants_) {
        g.given_away.push_back(cls);
        Advance(&g);
      }
    }
  }
  UpdateCap();
  if (started_) Rearm();
}

// Arrivals are dispatched in index order per grant, so next_m is the first
// not yet started: it and those after it take their times from the new
// profile, those before keep theirs. Each index still starts once (or is
// dropped, or interrupted): the accounting stays exact.
void OpenDriver::SetProfile(LoadProfile profile) {
  profile_ = std::move(profile);
  for (Grant& g : grants_) {
    g.segment = 0;
    Advance(&g);
  }
  if (started_) Rearm();
}

void OpenDriver::Start(int64_t run_start_ns) {
  run_start_ns_ = run_start_ns;
  started_ = true;
  Rearm();
}

void OpenDriver::Rearm() {
  int64_t next = -1;
  for (const Grant& g : grants_) {
    if (g.next_ns >= 0 && (next < 0 || g.next_ns < next)) next = g.next_ns;
  }
  if (next >= 0 && !ending_) engine_->loop()->Arm(&timer_, run_start_ns_ + next);
}

void OpenDriver::OnTimer() {
  if (ending_) return;
  int64_t t = engine_->loop()->NowNs() - run_start_ns_;
  // Every arrival that is due starts now, with its own intended time: a
  // late loop shows up as latency, not as missing load.
  for (Grant& g : grants_) {
    while (g.next_ns >= 0 && g.next_ns <= t) {
      Dispatch(g.next_m, g.next_ns);
      g.next_m += g.cls.modulus;
      Advance(&g);
    }
  }
  Rearm();
}

void OpenDriver::Dispatch(int64_t m, int64_t t_ns) {
  Connection* conn = nullptr;
  if (!idle_.empty()) {
    conn = idle_.back();
    idle_.pop_back();
  } else if (static_cast<int64_t>(conns_.size()) < cap_) {
    conns_.push_back(engine_->NewConnection(this));
    conn = conns_.back().get();
  } else {
    engine_->stats().RecordDropped();
    return;
  }
  ++busy_;
  int64_t intended = std::max<int64_t>(1, run_start_ns_ + t_ns);
  if (const CompiledScenarios* compiled = engine_->scenarios()) {
    auto& runner = runners_[conn];
    if (!runner) runner = std::make_unique<ScenarioRunner>(engine_, compiled, m);
    runner->Assign(m);  // arrival m runs one iteration of the scenario m selects
    const PreparedRequest* request = runner->RenderStep();
    if (request == nullptr) {  // out of data rows: the arrival cannot run
      --busy_;
      idle_.push_back(conn);
      engine_->stats().RecordDropped();
      return;
    }
    conn->Exchange(request, intended);
  } else {
    conn->Exchange(engine_->request(engine_->RequestForIteration(m)), intended);
  }
}

void OpenDriver::OnExchangeDone(Connection* conn, const ExchangeResult& result) {
  auto runner = runners_.find(conn);
  if (runner != runners_.end() && runner->second->OnStepDone(result) && !ending_) {
    // The iteration's next step: its latency counts from sending.
    if (const PreparedRequest* next = runner->second->RenderStep()) {
      conn->Exchange(next, 0);
      return;
    }
  }
  --busy_;
  idle_.push_back(conn);
  if (ending_) engine_->MaybeDone();
}

void OpenDriver::OnEnding() {
  ending_ = true;
  engine_->loop()->Disarm(&timer_);
}

void OpenDriver::Abort() {
  ending_ = true;
  engine_->loop()->Disarm(&timer_);
  for (auto& c : conns_) {
    if (c->busy()) --busy_;
    c->Interrupt();
  }
}

}  // namespace loadd
