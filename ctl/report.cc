#include "ctl/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/units.h"
#include "ctl/table.h"

namespace loadd {
namespace {

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::vector<std::string> EndpointRow(const EndpointView& e) {
  return {e.name,
          std::to_string(e.requests),
          std::to_string(e.failures),
          Printf("%.1f", e.rps),
          FormatMicros(e.min_us),
          FormatMicros(e.mean_us),
          FormatMicros(e.p50_us),
          FormatMicros(e.p90_us),
          FormatMicros(e.p95_us),
          FormatMicros(e.p99_us),
          FormatMicros(e.p999_us),
          FormatMicros(e.max_us)};
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

std::string FormatRunHeader(const RunView& run) {
  std::string line = "Run " + run.id;
  if (!run.name.empty()) line += "  " + run.name;
  line += "  " + run.state + "  " + FormatSeconds(run.elapsed_s);
  line += "  " + Plural(run.target_users > 0 ? run.target_users : run.users, "user");
  line += "  " + Plural(run.workers, "worker") + "\n";
  if (!run.message.empty()) line += "Message: " + run.message + "\n";
  return line;
}

std::string FormatReport(const RunView& run) {
  using A = Table::Align;
  Table table({{"Name", A::kLeft},
               {"Requests", A::kRight},
               {"Fails", A::kRight},
               {"RPS", A::kRight},
               {"Min", A::kRight},
               {"Mean", A::kRight},
               {"p50", A::kRight},
               {"p90", A::kRight},
               {"p95", A::kRight},
               {"p99", A::kRight},
               {"p99.9", A::kRight},
               {"Max", A::kRight}});
  for (const EndpointView& e : run.endpoints) table.AddRow(EndpointRow(e));
  table.AddRow(EndpointRow(run.aggregated));
  return FormatRunHeader(run) + table.Format() + FormatErrors(run);
}

std::string FormatRunSummary(const RunView& run) {
  std::string out = FormatRunHeader(run);
  if (!run.created_at.empty()) out += "Created " + run.created_at + "\n";
  double fail_percent = run.requests > 0 ? 100.0 * run.failures / run.requests : 0;
  const EndpointView& a = run.aggregated;
  out += "Requests " + std::to_string(run.requests) + "  Failures " +
         std::to_string(run.failures) + Printf(" (%.2f%%)", fail_percent) + "  RPS " +
         Printf("%.1f", run.rps) + "  p50 " + FormatMicros(a.p50_us) + "  p95 " +
         FormatMicros(a.p95_us) + "  p99 " + FormatMicros(a.p99_us) + "  Max " +
         FormatMicros(a.max_us) + "\n";
  return out + FormatErrors(run);
}

std::string FormatRunsTable(const std::vector<RunSummary>& runs) {
  using A = Table::Align;
  Table table({{"ID", A::kLeft},
               {"NAME", A::kLeft},
               {"STATE", A::kLeft},
               {"CREATED", A::kLeft},
               {"USERS", A::kRight},
               {"DURATION", A::kRight},
               {"REQUESTS", A::kRight},
               {"FAILURES", A::kRight}});
  for (const RunSummary& r : runs) {
    table.AddRow({r.id, r.name, r.state, r.created_at, std::to_string(r.users),
                  FormatSeconds(r.duration_s), std::to_string(r.requests),
                  std::to_string(r.failures)});
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
               {"LAST SEEN", A::kRight}});
  for (const WorkerView& w : workers) {
    table.AddRow({w.id, w.host, w.cpu < 0 ? "-" : std::to_string(w.cpu), w.state,
                  std::to_string(w.users), Printf("%.1f", w.cpu_percent),
                  FormatLastSeen(w.last_seen_ms)});
  }
  return table.Format();
}

}  // namespace loadd
