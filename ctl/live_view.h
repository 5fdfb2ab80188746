// The live view `loadctl start` draws on a terminal while a run goes: a
// progress bar through the run (ramp and steady phases), a status line and a
// compact per-endpoint table, redrawn in place once per poll.
//
// Rendering is pure (snapshot + width + options -> text) so tests compare
// strings; LiveScreen only remembers how many lines the last frame took.
#ifndef LOADD_CTL_LIVE_VIEW_H_
#define LOADD_CTL_LIVE_VIEW_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/run_view.h"

namespace loadd {

// One stretch of the run's load profile; stretches are consecutive from 0.
struct LivePhase {
  double end_s = 0;   // run time where it ends
  bool ramp = false;  // the load changes in it (else it holds steady)
};

// The phases of GET /v1/runs/{id}'s normalized `plan`: its load fields are
// read into a Plan and the phases follow Plan::Profile() (common/plan.h), a
// ramp wherever the load changes, steady where it holds (a stage of 0 s is
// a step, no phase). A ramp of at most 1 s at the start of the simple closed
// form (users + spawn_rate) is drawn steady. Empty when the plan says
// nothing usable (the bar then shows no phases).
std::vector<LivePhase> PhasesOfPlan(const rapidjson::Value& run_json);

// What one frame shows.
struct LiveSnapshot {
  const RunView* run = nullptr;  // not owned
  double rps = 0;                // this interval's requests per second
  int64_t live_workers = -1;     // while waiting: /healthz workers (<0: unknown)
  std::vector<LivePhase> phases;
};

struct LiveViewOptions {
  int width = 80;     // terminal columns; every line stays below this
  bool color = true;  // SGR colours; false: no escape byte at all
  int max_rows = 15;  // endpoint rows shown at most, then "... N more"
};

// The frame's lines, without line breaks, each at most width - 1 columns
// wide (so the terminal never wraps one and the line count stays right):
//   [=====#####..........]  40%  12.0s/30.0s  ramp
//   r1  running  users 150/200  rps 1902.4  errors 3 (0.16%)  workers 2
//   Name                 Requests  Fails      RPS     p50     p95     p99
//   GET /delay/20ms          9512      3   1902.4  20.4ms  20.8ms  21.1ms
//   ... 3 more
//   Thresholds  PASS http.p95 <250ms  FAIL http.error_rate <1%
// A waiting run is one line: "r1  waiting for workers (have 1, want 3)".
// With color, failures (when non-zero) and failing thresholds are red,
// passing ones green, the bar's filled cells coloured by phase.
std::vector<std::string> RenderLiveFrame(const LiveSnapshot& snapshot,
                                         const LiveViewOptions& options);

// The bar alone: cells wide plus the brackets. Filled cells are '=' in a
// ramp and '#' when steady, empty ones '-' in a ramp and '.' when steady;
// without phases every cell is steady. fraction is clamped to [0, 1].
std::string ProgressBar(double fraction, double total_s,
                        const std::vector<LivePhase>& phases, int cells, bool color);

// Columns text takes on a terminal: code points, escape sequences (ESC [
// ... final byte) counting zero. Wide characters count as one.
int DisplayWidth(std::string_view text);

// The longest prefix of text that takes at most columns columns, never
// cutting a UTF-8 sequence or an escape sequence; ends in "~" when it was
// cut (inside columns), and in an SGR reset when it was cut after colour.
std::string FitColumns(std::string_view text, int columns);

// The bytes that replace a frame of prev_lines lines (the cursor on the line
// below it) with lines: cursor up to its first line, each line followed by
// erase-to-end-of-line, then erase-to-end-of-screen so a shorter frame
// leaves nothing behind. prev_lines 0: draws below the cursor.
std::string RedrawFrame(int prev_lines, const std::vector<std::string>& lines);

inline constexpr std::string_view kHideCursor = "\x1b[?25l";
inline constexpr std::string_view kShowCursor = "\x1b[?25h";

// Whether the live view may be used: the stream is a terminal, TERM is set
// and not "dumb", NO_COLOR is unset or empty (no-color.org) and --no-color
// was not given. Else plain lines.
bool UseLiveView(bool is_tty, const char* term, const char* no_color_env,
                 bool no_color_flag);

// The terminal's size (TIOCGWINSZ on fd), else $COLUMNS and $LINES, else
// 80x24. Fits Env::terminal_size.
void TerminalSize(int fd, int* columns, int* rows);

// Endpoint rows that fit a terminal of rows lines beside the other lines of
// a frame: at most 15, at least 1.
int MaxTableRows(int rows);

}  // namespace loadd

#endif  // LOADD_CTL_LIVE_VIEW_H_
