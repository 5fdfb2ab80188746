#include "ctl/live_view.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/plan.h"
#include "common/units.h"
#include "ctl/report.h"
#include "ctl/table.h"

namespace loadd {
namespace {

constexpr char kEsc = '\x1b';
constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kGreen = "\x1b[32m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kDim = "\x1b[2m";

// Columns the bar's neighbours on its line take at most:
// " 100%  1h02m05s/1h02m05s  steady".
constexpr int kBarLineExtra = 36;
constexpr int kMinBarCells = 10;
constexpr int kMaxBarCells = 50;

std::string Paint(std::string_view text, std::string_view sgr, bool color) {
  if (!color || text.empty()) return std::string(text);
  return std::string(sgr) + std::string(text) + std::string(kReset);
}

// Length of the escape sequence at text[i] (ESC [ params final, or ESC and
// one more byte), at least 1.
size_t EscapeLength(std::string_view text, size_t i) {
  if (i + 1 >= text.size()) return 1;
  if (text[i + 1] != '[') return 2;
  size_t j = i + 2;
  while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7e)) ++j;
  return std::min(j + 1, text.size()) - i;
}

// Length of the UTF-8 sequence led by c (1 for a stray continuation byte or
// invalid lead, so bad input still advances).
size_t Utf8Length(unsigned char c) {
  if (c >= 0xf0 && c <= 0xf7) return 4;
  if (c >= 0xe0) return c <= 0xef ? 3 : 1;
  if (c >= 0xc2) return 2;
  return 1;
}

// The plan's duration string in ns; -1 when missing or bad.
int64_t DurationNsOf(const rapidjson::Value& object) {
  auto it = object.FindMember("duration");
  if (it == object.MemberEnd() || !it->value.IsString()) return -1;
  Result<int64_t> ns = ParseDurationNs(it->value.GetString());
  return ns.ok() ? *ns : -1;
}

// A number, or a number in a string (coordinators before the fix in
// WriteNumber15 wrote rates quoted); -1 when neither.
double NumberOf(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return -1;
  if (it->value.IsNumber()) return it->value.GetDouble();
  if (!it->value.IsString()) return -1;
  const char* text = it->value.GetString();
  char* end = nullptr;
  double value = std::strtod(text, &end);
  return end != text && *end == '\0' && std::isfinite(value) ? value : -1;
}

// The load fields of a run's normalized plan (stages and start_rate, or
// users + spawn_rate + duration, or arrival_rate + duration) read into a
// Plan, so that the profile drawn is Plan::Profile()'s. Lenient, as the view
// must draw whatever the coordinator sends: an unreadable stage is left
// out, an unreadable spawn_rate starts everyone at once (the parser's
// default). False when the fields say nothing usable.
bool ReadLoad(const rapidjson::Value& json, Plan* plan) {
  auto stages = json.FindMember("stages");
  if (stages != json.MemberEnd() && stages->value.IsArray() && !stages->value.Empty()) {
    for (const rapidjson::Value& stage : stages->value.GetArray()) {
      if (!stage.IsObject()) return false;
      bool rate = stage.HasMember("rate");
      if (plan->stages.empty() && rate) plan->model = LoadModel::kOpen;
      double target = NumberOf(stage, rate ? "rate" : "users");
      int64_t length_ns = DurationNsOf(stage);
      if (target < 0 || length_ns < 0) continue;
      plan->stages.push_back({length_ns, target});
    }
    plan->start_rate = std::max(0.0, NumberOf(json, "start_rate"));
    return !plan->stages.empty();
  }
  plan->duration_ns = DurationNsOf(json);
  if (plan->duration_ns <= 0) return false;
  double arrival_rate = NumberOf(json, "arrival_rate");
  if (arrival_rate >= 0) {
    plan->model = LoadModel::kOpen;
    plan->arrival_rate = arrival_rate;
    return true;
  }
  double users = std::max(0.0, NumberOf(json, "users"));
  double spawn_rate = NumberOf(json, "spawn_rate");
  plan->users = static_cast<int64_t>(users);
  plan->spawn_rate = spawn_rate > 0 ? spawn_rate : std::max(users, 1.0);
  return true;
}

// One phase per stretch between the profile's knots, a ramp where the load
// changes; neighbours of one kind are one phase unless a step (two knots at
// one time) lies between them. Steps take no time, so they are no phase.
std::vector<LivePhase> PhasesOfProfile(const LoadProfile& profile) {
  std::vector<LivePhase> phases;
  const std::vector<LoadProfile::Knot>& knots = profile.knots();
  bool stepped = false;
  for (size_t s = 1; s < knots.size(); ++s) {
    if (knots[s].t_ns <= knots[s - 1].t_ns) {
      stepped = stepped || knots[s].value != knots[s - 1].value;
      continue;
    }
    bool ramp = knots[s].value != knots[s - 1].value;
    double end_s = static_cast<double>(knots[s].t_ns) / 1e9;
    bool merge = !phases.empty() && phases.back().ramp == ramp && !stepped;
    stepped = false;
    if (merge) {
      phases.back().end_s = end_s;
    } else {
      phases.push_back({end_s, ramp});
    }
  }
  return phases;
}

bool InRamp(const std::vector<LivePhase>& phases, double t) {
  for (const LivePhase& phase : phases) {
    if (t < phase.end_s) return phase.ramp;
  }
  return false;
}

std::string PhaseName(const std::vector<LivePhase>& phases, double t, double total_s) {
  if (phases.empty() || t >= total_s) return "";
  return InRamp(phases, t) ? "ramp" : "steady";
}

std::string BarLine(const LiveSnapshot& s, const LiveViewOptions& o) {
  const RunView& run = *s.run;
  double total = run.duration_s;
  double fraction = run.state == "finished" ? 1.0 : total > 0 ? run.elapsed_s / total : 0;
  fraction = std::clamp(fraction, 0.0, 1.0);
  int cells = std::clamp(o.width - 1 - 2 - kBarLineExtra, kMinBarCells, kMaxBarCells);
  char percent[8];
  std::snprintf(percent, sizeof percent, "%3d%%",
                static_cast<int>(std::floor(fraction * 100 + 1e-9)));
  std::string line = ProgressBar(fraction, total, s.phases, cells, o.color) + " " +
                     percent + "  " + FormatSeconds(run.elapsed_s) + "/" +
                     FormatSeconds(total);
  std::string phase = PhaseName(s.phases, run.elapsed_s, total);
  if (!phase.empty() && !IsFinalState(run.state)) {
    line += "  " + Paint(phase, phase == "ramp" ? kYellow : kGreen, o.color);
  }
  return line;
}

std::string StatusLine(const LiveSnapshot& s, const LiveViewOptions& o) {
  const RunView& run = *s.run;
  std::string load = run.open_model ? "in flight " + std::to_string(run.users) + "/" +
                                          std::to_string(run.max_in_flight)
                                    : "users " + std::to_string(run.users) + "/" +
                                          std::to_string(run.target_users);
  std::string errors = std::to_string(run.failures);
  if (run.requests > 0) {
    errors += Printf(" (%.2f%%)", 100.0 * static_cast<double>(run.failures) /
                                      static_cast<double>(run.requests));
  }
  std::string line = Paint(run.id, kBold, o.color) + "  " + run.state + "  " + load +
                     "  rps " + Printf("%.1f", s.rps) + "  errors " +
                     Paint(errors, kRed, o.color && run.failures > 0);
  if (run.dropped > 0) {
    line += "  dropped " + Paint(std::to_string(run.dropped), kYellow, o.color);
  }
  return line + "  workers " + std::to_string(run.workers);
}

std::string PadLeft(std::string text, size_t width) {
  if (text.size() < width) text.insert(0, width - text.size(), ' ');
  return text;
}

// The table's columns after the name: requests, fails, rps, p50, p95, p99.
constexpr int kNumbersWidth = 9 + 7 + 9 + 8 + 8 + 8;
constexpr int kMinNameWidth = 8;
constexpr int kMaxNameWidth = 40;

std::string PadName(std::string_view name, int width) {
  std::string fitted = FitColumns(name, width);
  int used = DisplayWidth(fitted);
  return fitted + std::string(static_cast<size_t>(std::max(0, width - used)), ' ');
}

std::string TableRow(const EndpointView& e, int name_width, bool color) {
  std::string fails = PadLeft(std::to_string(e.failures), 7);
  if (e.failures > 0) fails = Paint(fails, kRed, color);
  return PadName(e.name, name_width) + PadLeft(std::to_string(e.requests), 9) + fails +
         PadLeft(Printf("%.1f", e.rps), 9) + PadLeft(FormatMicros(e.latency.p50_us), 8) +
         PadLeft(FormatMicros(e.latency.p95_us), 8) +
         PadLeft(FormatMicros(e.latency.p99_us), 8);
}

void AppendTable(const RunView& run, const LiveViewOptions& o,
                 std::vector<std::string>* lines) {
  if (run.endpoints.empty()) return;
  int longest = 4;  // "Name"
  for (const EndpointView& e : run.endpoints)
    longest = std::max(longest, DisplayWidth(e.name));
  int room = o.width - 1 - kNumbersWidth;
  int name_width = std::clamp(std::min(longest + 1, kMaxNameWidth), kMinNameWidth,
                              std::max(kMinNameWidth, room));
  std::string header = PadName("Name", name_width) + PadLeft("Requests", 9) +
                       PadLeft("Fails", 7) + PadLeft("RPS", 9) + PadLeft("p50", 8) +
                       PadLeft("p95", 8) + PadLeft("p99", 8);
  lines->push_back(Paint(header, kDim, o.color));
  int shown = std::max(1, o.max_rows);
  for (size_t i = 0; i < run.endpoints.size(); ++i) {
    if (static_cast<int>(i) == shown) {
      lines->push_back("... " + std::to_string(run.endpoints.size() - i) + " more");
      break;
    }
    lines->push_back(TableRow(run.endpoints[i], name_width, o.color));
  }
}

void AppendThresholds(const RunView& run, const LiveViewOptions& o,
                      std::vector<std::string>* lines) {
  if (run.thresholds.empty()) return;
  std::string line = "Thresholds";
  for (const ThresholdView& t : run.thresholds) {
    line += "  " + Paint(t.passed ? "PASS" : "FAIL", t.passed ? kGreen : kRed, o.color) +
            " " + t.key + " " + t.condition;
  }
  lines->push_back(line);
}

}  // namespace

std::vector<LivePhase> PhasesOfPlan(const rapidjson::Value& run_json) {
  if (!run_json.IsObject()) return {};
  auto plan_it = run_json.FindMember("plan");
  if (plan_it == run_json.MemberEnd() || !plan_it->value.IsObject()) return {};
  Plan plan;
  if (!ReadLoad(plan_it->value, &plan)) return {};
  std::vector<LivePhase> phases = PhasesOfProfile(plan.Profile());
  // Everyone starting within a second is no ramp worth drawing.
  bool simple_closed = plan.model == LoadModel::kClosed && plan.stages.empty();
  if (simple_closed && !phases.empty() && phases[0].ramp && phases[0].end_s <= 1.0) {
    phases[0].ramp = false;
    if (phases.size() > 1) phases.erase(phases.begin());  // the steady rest
  }
  return phases;
}

std::string ProgressBar(double fraction, double total_s,
                        const std::vector<LivePhase>& phases, int cells, bool color) {
  fraction = std::clamp(std::isnan(fraction) ? 0.0 : fraction, 0.0, 1.0);
  cells = std::max(1, cells);
  int filled = static_cast<int>(std::floor(fraction * cells + 1e-9));
  std::string bar = "[";
  // Runs of equal cells share one colour sequence.
  std::string run_text;
  std::string_view run_sgr;
  auto flush = [&] {
    bar += Paint(run_text, run_sgr, color && !run_sgr.empty());
    run_text.clear();
  };
  for (int i = 0; i < cells; ++i) {
    double t = total_s > 0 ? (i + 0.5) / cells * total_s : 0;
    bool ramp = total_s > 0 && InRamp(phases, t);
    bool full = i < filled;
    char c = full ? (ramp ? '=' : '#') : (ramp ? '-' : '.');
    std::string_view sgr = full ? (ramp ? kYellow : kGreen) : kDim;
    if (sgr != run_sgr) {
      flush();
      run_sgr = sgr;
    }
    run_text += c;
  }
  flush();
  return bar + "]";
}

int DisplayWidth(std::string_view text) {
  int columns = 0;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == kEsc) {
      i += EscapeLength(text, i);
      continue;
    }
    i += Utf8Length(static_cast<unsigned char>(text[i]));
    ++columns;
  }
  return columns;
}

std::string FitColumns(std::string_view text, int columns) {
  if (DisplayWidth(text) <= columns) return std::string(text);
  if (columns <= 0) return "";
  std::string out;
  bool painted = false;
  int used = 0;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == kEsc) {
      size_t n = EscapeLength(text, i);
      out.append(text.substr(i, n));
      painted = true;
      i += n;
      continue;
    }
    if (used == columns - 1) break;  // the last column is for the "~"
    size_t n = std::min(Utf8Length(static_cast<unsigned char>(text[i])), text.size() - i);
    out.append(text.substr(i, n));
    i += n;
    ++used;
  }
  out += '~';
  if (painted) out += kReset;
  return out;
}

std::string RedrawFrame(int prev_lines, const std::vector<std::string>& lines) {
  std::string out;
  if (prev_lines > 0) out += "\x1b[" + std::to_string(prev_lines) + "A";
  out += '\r';
  for (const std::string& line : lines) {
    out += line;
    out += "\x1b[K\n";
  }
  out += "\x1b[J";
  return out;
}

std::vector<std::string> RenderLiveFrame(const LiveSnapshot& s,
                                         const LiveViewOptions& o) {
  std::vector<std::string> lines;
  if (s.run == nullptr) return lines;
  const RunView& run = *s.run;
  int fit = std::max(1, o.width - 1);
  if (run.state == "queued") {
    lines.push_back(FitColumns(run.id + "  queued: position " +
                                   std::to_string(run.queue_position) +
                                   " in the run queue",
                               fit));
    return lines;
  }
  if (run.state == "waiting") {
    lines.push_back(FitColumns(
        run.id + "  waiting for workers (have " +
            (s.live_workers < 0 ? std::string("?") : std::to_string(s.live_workers)) +
            ", want " + std::to_string(run.expect_workers) + ")",
        fit));
    return lines;
  }
  lines.push_back(BarLine(s, o));
  lines.push_back(StatusLine(s, o));
  AppendTable(run, o, &lines);
  AppendThresholds(run, o, &lines);
  for (std::string& line : lines) line = FitColumns(line, fit);
  return lines;
}

bool UseLiveView(bool is_tty, const char* term, const char* no_color_env,
                 bool no_color_flag) {
  if (!is_tty || no_color_flag) return false;
  if (no_color_env != nullptr && *no_color_env != '\0') return false;
  return term != nullptr && *term != '\0' && std::strcmp(term, "dumb") != 0;
}

namespace {

int EnvNumber(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  int n = std::atoi(text);
  return n > 0 && n < 10000 ? n : fallback;
}

}  // namespace

void TerminalSize(int fd, int* columns, int* rows) {
  winsize size = {};
  bool known = ioctl(fd, TIOCGWINSZ, &size) == 0;
  *columns = known && size.ws_col > 0 ? size.ws_col : EnvNumber("COLUMNS", 80);
  *rows = known && size.ws_row > 0 ? size.ws_row : EnvNumber("LINES", 24);
}

int MaxTableRows(int rows) {
  // The bar, the status line, the table's header, "... N more", thresholds,
  // and the line the cursor waits on.
  constexpr int kOtherLines = 6;
  return std::clamp(rows - kOtherLines, 1, 15);
}

}  // namespace loadd
