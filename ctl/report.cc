#include "ctl/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/units.h"
#include "ctl/table.h"
#include "ctl/verdict.h"

namespace loadd {
namespace {

constexpr char kCorrectedNote[] =
    "Latency counts from each iteration's intended start (coordinated omission "
    "corrected).\n";
constexpr char kServiceTitle[] = "Service time (uncorrected, from sending)\n";

void AppendLatencies(const LatencyView& l, std::vector<std::string>* row) {
  for (double us : {l.min_us, l.mean_us, l.p50_us, l.p90_us, l.p95_us, l.p99_us,
                    l.p999_us, l.max_us}) {
    row->push_back(FormatMicros(us));
  }
}

std::vector<Table::Column> LatencyColumns(std::vector<Table::Column> first) {
  for (const char* title : {"Min", "Mean", "p50", "p90", "p95", "p99", "p99.9", "Max"}) {
    first.push_back({title, Table::Align::kRight});
  }
  return first;
}

std::string EndpointTable(const RunView& run) {
  using A = Table::Align;
  Table table(LatencyColumns({{"Name", A::kLeft},
                              {"Requests", A::kRight},
                              {"Fails", A::kRight},
                              {"RPS", A::kRight}}));
  auto add = [&](const EndpointView& e) {
    std::vector<std::string> row = {e.name, std::to_string(e.requests),
                                    std::to_string(e.failures), Printf("%.1f", e.rps)};
    AppendLatencies(e.latency, &row);
    table.AddRow(std::move(row));
  };
  for (const EndpointView& e : run.endpoints) add(e);
  add(run.aggregated);
  return table.Format();
}

// Rows only for the endpoints that carry a service object.
std::string ServiceTable(const RunView& run) {
  Table table(LatencyColumns({{"Name", Table::Align::kLeft}}));
  auto add = [&](const EndpointView& e) {
    if (!e.has_service) return;
    std::vector<std::string> row = {e.name};
    AppendLatencies(e.service, &row);
    table.AddRow(std::move(row));
  };
  for (const EndpointView& e : run.endpoints) add(e);
  add(run.aggregated);
  return table.Format();
}

bool HasService(const RunView& run) {
  return run.aggregated.has_service ||
         std::any_of(run.endpoints.begin(), run.endpoints.end(),
                     [](const EndpointView& e) { return e.has_service; });
}

}  // namespace

std::string FormatRunEvent(const RunEvent& e) {
  char text[256];
  const char* unit = e.unit == "rate" ? "arrivals/s" : "users";
  char pace[64];
  if (e.ramp_rate > 0) {
    std::snprintf(pace, sizeof pace, "at %g/s", e.ramp_rate);
  } else {
    std::snprintf(pace, sizeof pace, "at once");
  }
  std::snprintf(text, sizeof text, "%s %g -> %g %s from %s", unit, e.from, e.to, pace,
                FormatSeconds(static_cast<double>(e.at_ms) / 1000).c_str());
  std::string out = text;
  if (!e.by.empty()) out += " (by " + e.by + ")";
  return out;
}

namespace {

// Dropped iterations, lost workers, warnings, changes: each only when there are any.
std::string FormatNotes(const RunView& run) {
  std::string out;
  if (run.dropped > 0) {
    out += "Dropped iterations: " + std::to_string(run.dropped) +
           " (max_in_flight reached)\n";
  }
  for (size_t i = 0; i < run.lost_workers.size(); ++i) {
    out += (i == 0 ? "Lost workers: " : ", ") + run.lost_workers[i].id + " at " +
           FormatSeconds(run.lost_workers[i].lost_at_s);
  }
  if (!run.lost_workers.empty()) out += "\n";
  if (!run.warnings.empty()) out += "Warnings:\n";
  for (const std::string& message : run.warnings) out += "  " + message + "\n";
  if (!run.events.empty()) out += "Changes:\n";
  for (const RunEvent& e : run.events) out += "  " + FormatRunEvent(e) + "\n";
  return out;
}

std::string FormatErrors(const RunView& run) {
  std::string line = "Errors:";
  if (run.errors.empty()) return line + " none\n";
  for (size_t i = 0; i < run.errors.size(); ++i) {
    line += (i == 0 ? " " : ", ") + run.errors[i].first + " " +
            std::to_string(run.errors[i].second);
  }
  return line + "\n";
}

// "Thresholds: 1 of 2 failed" (or "all 2 passed"), then one row each.
std::string FormatThresholds(const RunView& run) {
  if (run.thresholds.empty()) return "";
  using A = Table::Align;
  Table table({{"Result", A::kLeft},
               {"Threshold", A::kLeft},
               {"Condition", A::kLeft},
               {"Actual", A::kRight}});
  int64_t failed = 0;
  for (const ThresholdView& t : run.thresholds) {
    failed += t.passed ? 0 : 1;
    table.AddRow({t.passed ? "PASS" : "FAIL", t.key, t.condition,
                  t.measured ? FormatThresholdActual(t) : "- (" + t.message + ")"});
  }
  std::string total = std::to_string(run.thresholds.size());
  std::string head = failed == 0 ? "all " + total + " passed"
                                 : std::to_string(failed) + " of " + total + " failed";
  if (run.thresholds_verdict == ThresholdsVerdict::kUndecided) {
    head += " so far (the run is still going)";
  }
  return "Thresholds: " + head + "\n" + table.Format();
}

std::string FormatChecks(const RunView& run) {
  if (run.checks.empty()) return "";
  using A = Table::Align;
  Table table({{"Name", A::kLeft},
               {"Passed", A::kRight},
               {"Failed", A::kRight},
               {"Pass rate", A::kRight}});
  for (const CheckView& c : run.checks) {
    table.AddRow({c.name, std::to_string(c.passed), std::to_string(c.failed),
                  FormatPassRate(c.passed, c.failed)});
  }
  return "Checks:\n" + table.Format();
}

std::string FormatLastSeen(int64_t ms) {
  if (ms < 1000) return std::to_string(std::max<int64_t>(ms, 0)) + "ms ago";
  return FormatSeconds(static_cast<double>(ms) / 1000) + " ago";
}

}  // namespace

std::string Plural(int64_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string FormatSeconds(double seconds) {
  if (!(seconds > 0)) seconds = 0;
  if (seconds < 60) return Printf("%.1fs", seconds);
  int64_t whole = std::llround(seconds);
  char buf[48];
  if (whole < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(whole / 60),
                  static_cast<long long>(whole % 60));
  } else {
    std::snprintf(
        buf, sizeof buf, "%lldh%02lldm%02llds", static_cast<long long>(whole / 3600),
        static_cast<long long>(whole / 60 % 60), static_cast<long long>(whole % 60));
  }
  return buf;
}

std::string FormatRate(double per_second) {
  std::string text = Printf("%.2f", per_second);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text + "/s";
}

std::string FormatLoad(const RunView& run) {
  if (run.open_model) return "arrival rate " + FormatRate(run.arrival_rate);
  return Plural(run.target_users > 0 ? run.target_users : run.users, "user");
}

std::string FormatRunHeader(const RunView& run) {
  std::string line = "Run " + run.id;
  if (!run.name.empty()) line += "  " + run.name;
  line += "  " + run.state + "  " + FormatSeconds(run.elapsed_s);
  line += "  " + FormatLoad(run);
  line += "  " + Plural(run.workers, "worker") + "\n";
  if (!run.message.empty()) line += "Message: " + run.message + "\n";
  return line;
}

std::string FormatReport(const RunView& run) {
  bool service = HasService(run);
  std::string out = FormatRunHeader(run);
  if (service) out += kCorrectedNote;
  out += EndpointTable(run);
  if (service) out += kServiceTitle + ServiceTable(run);
  return out + FormatErrors(run) + FormatNotes(run) + FormatChecks(run) +
         FormatThresholds(run);
}

std::string FormatRunSummary(const RunView& run) {
  std::string out = FormatRunHeader(run);
  if (!run.created_at.empty()) out += "Created " + run.created_at + "\n";
  double fail_percent = run.requests > 0 ? 100.0 * run.failures / run.requests : 0;
  const LatencyView& a = run.aggregated.latency;
  out += "Requests " + std::to_string(run.requests) + "  Failures " +
         std::to_string(run.failures) + Printf(" (%.2f%%)", fail_percent) + "  RPS " +
         Printf("%.1f", run.rps) + "  p50 " + FormatMicros(a.p50_us) + "  p95 " +
         FormatMicros(a.p95_us) + "  p99 " + FormatMicros(a.p99_us) + "  Max " +
         FormatMicros(a.max_us) + "\n";
  return out + FormatErrors(run) + FormatNotes(run);
}

std::string FormatRunsTable(const std::vector<RunSummary>& runs) {
  using A = Table::Align;
  std::vector<Table::Column> columns = {{"ID", A::kLeft},        {"NAME", A::kLeft},
                                        {"STATE", A::kLeft},     {"CREATED", A::kLeft},
                                        {"USERS", A::kRight},    {"DURATION", A::kRight},
                                        {"REQUESTS", A::kRight}, {"FAILURES", A::kRight}};
  // LABELS only when a listed run has some (the last cell is dropped else).
  if (std::any_of(runs.begin(), runs.end(),
                  [](const RunSummary& r) { return !r.labels.empty(); })) {
    columns.push_back({"LABELS", A::kLeft});
  }
  Table table(std::move(columns));
  for (const RunSummary& r : runs) {
    table.AddRow({r.id, r.name, r.state, r.created_at, std::to_string(r.users),
                  FormatSeconds(r.duration_s), std::to_string(r.requests),
                  std::to_string(r.failures),
                  r.labels.empty() ? "-" : FormatLabels(r.labels)});
  }
  return table.Format();
}

std::string FormatWorkersTable(const std::vector<WorkerView>& workers) {
  using A = Table::Align;
  Table table({{"ID", A::kLeft},
               {"HOST", A::kLeft},
               {"CPU", A::kRight},
               {"STATE", A::kLeft},
               {"USERS", A::kRight},
               {"CPU%", A::kRight},
               {"LAST SEEN", A::kRight},
               {"LABELS", A::kLeft}});
  for (const WorkerView& w : workers) {
    table.AddRow({w.id, w.host, w.cpu < 0 ? "-" : std::to_string(w.cpu), w.state,
                  std::to_string(w.users), Printf("%.1f", w.cpu_percent),
                  FormatLastSeen(w.last_seen_ms),
                  w.labels.empty() ? "-" : FormatLabels(w.labels)});
  }
  return table.Format();
}

}  // namespace loadd
