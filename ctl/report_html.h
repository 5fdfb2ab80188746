// `loadctl report RUN --format html`: one self-contained HTML file with the
// run's charts (requests/s and users, latency p50/p95/p99, errors/s over
// time, drawn by uPlot) and its tables (summary, endpoints, errors,
// thresholds, checks, warnings). uPlot's JS and CSS and the dashboard's
// chart code (web/, embedded at build time) are inlined, and the run's JSON
// is embedded, so the file opens with no network; its Content-Security-
// Policy forbids any request.
#ifndef LOADD_CTL_REPORT_HTML_H_
#define LOADD_CTL_REPORT_HTML_H_

#include <string>
#include <string_view>

#include "ctl/run_view.h"

namespace loadd {

// `run` is `run_json` (GET /v1/runs/{id} with its timeline) parsed. Every
// text from the run is escaped; the JSON is embedded with each '<' written
// as \u003c, so no value can close its <script> element.
std::string FormatHtmlReport(const RunView& run, std::string_view run_json);

// Text for HTML element content and quoted attribute values: & < > " '
// escaped.
std::string HtmlEscape(std::string_view text);

// JSON text that is safe inside <script>: '<' becomes \u003c (also inside
// JSON strings, where it means the same).
std::string JsonForScript(std::string_view json);

}  // namespace loadd

#endif  // LOADD_CTL_REPORT_HTML_H_
