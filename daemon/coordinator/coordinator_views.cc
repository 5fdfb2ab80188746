// The Coordinator's answers to REST reads, as JSON: one run (live or from
// the store), its interval log, the run list, the fleet, and health. Each
// takes the lock only to copy or write what it answers (coordinator.h).
#include <algorithm>
#include <cmath>
#include <string>

#include "common/json.h"
#include "common/log.h"
#include "common/run_records.h"
#include "daemon/coordinator/coordinator.h"

namespace loadd {

Result<std::string> Coordinator::GetRunHlog(const std::string& id) {
  {
    MutexLock lock(&mu_);
    auto it = runs_.find(id);
    if (it == runs_.end()) return Status(StatusCode::kNotFound, "no run " + id, "id");
    if (Run* run = it->second.run.get()) return run->Hlog();
  }
  Result<std::unique_ptr<Run>> run = RestoreEnded(id);
  if (!run.ok()) return run.status();
  return (*run)->Hlog();
}

Result<std::string> Coordinator::GetRun(const std::string& id, bool timeline,
                                        int64_t since_s) {
  {
    MutexLock lock(&mu_);
    auto it = runs_.find(id);
    if (it == runs_.end()) return Status(StatusCode::kNotFound, "no run " + id, "id");
    if (Run* run = it->second.run.get()) {
      int64_t now = clock_->NowNs();
      return ToJson([&](JsonWriter* w) { run->WriteFull(w, timeline, now, since_s); });
    }
  }
  Result<std::unique_ptr<Run>> run = RestoreEnded(id);
  if (!run.ok()) return run.status();
  int64_t now = clock_->NowNs();
  return ToJson([&](JsonWriter* w) { (*run)->WriteFull(w, timeline, now, since_s); });
}

namespace {

// Whether a stored run's summary (Run::WriteSummary's JSON) passes: its
// "state" and "labels" (none in runs stored before run labels).
bool SummaryPasses(const RunFilter& filter, const std::string& summary) {
  rapidjson::Document doc;
  doc.Parse(summary.data(), summary.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  auto state = doc.FindMember("state");
  if (state == doc.MemberEnd() || !state->value.IsString()) return false;
  Labels labels;
  auto found = doc.FindMember("labels");
  if (found != doc.MemberEnd() && found->value.IsObject()) {
    for (const auto& m : found->value.GetObject()) {
      if (m.value.IsString()) labels.emplace(m.name.GetString(), m.value.GetString());
    }
  }
  return RunFilterMatches(filter, state->value.GetString(), labels);
}

}  // namespace

std::string Coordinator::ListRuns(const RunFilter& filter) {
  MutexLock lock(&mu_);
  // Runs inside ToJson, under `lock`; the analysis does not follow lambdas.
  return ToJson([&](JsonWriter* w) NO_THREAD_SAFETY_ANALYSIS {
    w->StartObject();
    w->Key("runs");
    w->StartArray();
    for (auto it = run_order_.rbegin(); it != run_order_.rend(); ++it) {
      const RunSlot& slot = runs_[*it];
      // A stored run's summary is parsed only when there is a filter.
      if (!filter.empty() &&
          !(slot.run ? RunFilterMatches(filter, RunStateName(slot.run->state()),
                                        slot.run->plan().labels)
                     : SummaryPasses(filter, slot.summary))) {
        continue;
      }
      if (slot.run) {
        slot.run->WriteSummary(w);
      } else {
        w->RawValue(slot.summary.data(), slot.summary.size(), rapidjson::kObjectType);
      }
    }
    w->EndArray();
    w->EndObject();
  });
}

std::string Coordinator::ListWorkers() {
  MutexLock lock(&mu_);
  int64_t now = clock_->NowNs();
  // Runs inside ToJson, under `lock`; the analysis does not follow lambdas.
  return ToJson([&](JsonWriter* w) NO_THREAD_SAFETY_ANALYSIS {
    w->StartObject();
    w->Key("workers");
    w->StartArray();
    for (const auto& [pipe, e] : fleet_.entries()) {
      if (!e.registered) continue;
      FleetWorkerRow row;
      row.id = e.id;
      row.host = e.hello.host;
      row.instance = e.hello.instance;
      row.cpu = e.hello.cpu;
      row.cores = e.hello.cores;
      row.version = e.hello.version;
      row.pid = e.hello.pid;
      row.state = e.lost ? "lost" : e.run_id.empty() ? "idle" : "busy";
      row.run_id = e.run_id;
      row.users = e.users;
      row.cpu_percent = e.cpu_percent;
      row.last_seen_ms = (now - e.last_seen_ns) / kNsPerMs;
      // To 0.1 s as whole tenths (the row's rounding then keeps it).
      row.connected_s = std::round(static_cast<double>(now - e.connected_ns) / 1e8) / 10;
      const Labels& labels = e.hello.labels;  // a lambda cannot capture a binding
      w->StartObject();
      WriteJsonFields(
          w, row, FleetWorkerFields(), JsonDoc::kApi,
          [&](JsonWriter* w, int, const char* name) { WriteLabels(w, name, labels); });
      w->EndObject();
    }
    w->EndArray();
    w->EndObject();
  });
}

size_t Coordinator::LiveWorkers() {
  MutexLock lock(&mu_);
  return fleet_.CountLive();
}

std::string Coordinator::Health() {
  size_t live = LiveWorkers();
  return ToJson([&](JsonWriter* w) {
    w->StartObject();
    w->Key("status");
    w->String("ok");
    w->Key("version");
    w->String(LOADD_VERSION);
    w->Key("workers");
    w->Uint64(live);
    w->EndObject();
  });
}

}  // namespace loadd
