#include "ctl/report_html.h"

#include <cstdio>

#include "ctl/report.h"
#include "web/embedded_files.h"

namespace loadd {
namespace {

// No request of any kind: inline scripts and styles only.
constexpr char kCsp[] =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:";

std::string_view Embedded(const char* name) {
  const EmbeddedFile* file = FindEmbeddedFile(name);
  return file ? file->bytes : std::string_view();
}

// Inlined code must not end its element early: "</script" and "</style"
// (any case) become "<\/...", which means the same inside JS strings,
// regular expressions and comments, where alone they can occur.
std::string Inline(std::string_view code) {
  auto closes_element = [&](size_t i) {
    for (std::string_view tag : {"script", "style"}) {
      if (code.size() - i < tag.size()) continue;
      bool same = true;
      for (size_t k = 0; k < tag.size() && same; ++k) {
        same = (code[i + k] | 0x20) == tag[k];
      }
      if (same) return true;
    }
    return false;
  };
  std::string out;
  out.reserve(code.size());
  for (size_t i = 0; i < code.size(); ++i) {
    out += code[i];
    if (code[i] == '<' && i + 1 < code.size() && code[i + 1] == '/' &&
        closes_element(i + 2))
      out += '\\';
  }
  return out;
}

std::string Num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
std::string Ms(double us) { return Num(us / 1000.0, 2); }

void Row(std::string* html, std::string_view th, std::string_view td) {
  *html += "<tr><th>" + HtmlEscape(th) + "</th><td>" + HtmlEscape(td) + "</td></tr>\n";
}

std::string Verdict(ThresholdsVerdict v) {
  switch (v) {
    case ThresholdsVerdict::kPassed:
      return "passed";
    case ThresholdsVerdict::kFailed:
      return "failed";
    case ThresholdsVerdict::kUndecided:
      return "not decided yet (the run is still going)";
    case ThresholdsVerdict::kNone:
      break;
  }
  return "none";
}

void Summary(const RunView& run, std::string* html) {
  *html += "<table class=\"summary\">\n";
  Row(html, "State", run.state);
  if (!run.message.empty()) Row(html, "Message", run.message);
  Row(html, "Created", run.created_at);
  Row(html, "Elapsed", Num(run.elapsed_s, 1) + " s of " + Num(run.duration_s, 0) + " s");
  Row(html, "Users", std::to_string(run.target_users));
  Row(html, "Workers", std::to_string(run.workers));
  Row(html, "Requests", std::to_string(run.requests));
  Row(html, "Failures", std::to_string(run.failures));
  Row(html, "Requests/s", Num(run.rps, 1));
  Row(html, "Thresholds", Verdict(run.thresholds_verdict));
  *html += "</table>\n";
}

void EndpointRow(const EndpointView& e, std::string* html) {
  const LatencyView& l = e.latency;
  *html += "<tr><td>" + HtmlEscape(e.name) + "</td>";
  for (const std::string& v :
       {std::to_string(e.requests), std::to_string(e.failures), Num(e.rps, 1),
        Ms(l.min_us), Ms(l.mean_us), Ms(l.p50_us), Ms(l.p90_us), Ms(l.p95_us),
        Ms(l.p99_us), Ms(l.p999_us), Ms(l.max_us)}) {
    *html += "<td class=\"num\">" + v + "</td>";
  }
  *html += "</tr>\n";
}

void Endpoints(const RunView& run, std::string* html) {
  *html +=
      "<h2>Endpoints</h2>\n<table id=\"endpoints\"><thead><tr><th>Endpoint</th>"
      "<th class=\"num\">Requests</th><th class=\"num\">Failures</th>"
      "<th class=\"num\">Requests/s</th><th class=\"num\">Min ms</th>"
      "<th class=\"num\">Mean ms</th><th class=\"num\">p50 ms</th>"
      "<th class=\"num\">p90 ms</th><th class=\"num\">p95 ms</th>"
      "<th class=\"num\">p99 ms</th><th class=\"num\">p99.9 ms</th>"
      "<th class=\"num\">Max ms</th></tr></thead>\n<tbody>\n";
  for (const EndpointView& e : run.endpoints) EndpointRow(e, html);
  if (run.endpoints.size() != 1) EndpointRow(run.aggregated, html);
  *html += "</tbody></table>\n";
}

void Details(const RunView& run, std::string* html) {
  if (!run.errors.empty()) {
    *html += "<h2>Errors by kind</h2>\n<table>\n";
    for (const auto& [kind, n] : run.errors) Row(html, kind, std::to_string(n));
    *html += "</table>\n";
  }
  if (!run.thresholds.empty()) {
    *html += "<h2>Thresholds</h2>\n<table id=\"thresholds\">\n";
    for (const ThresholdView& t : run.thresholds) {
      *html += std::string("<tr><td class=\"") +
               (t.passed ? "pass\">PASS" : "fail\">FAIL") + "</td><td>" +
               HtmlEscape(t.key) + "</td><td>" + HtmlEscape(t.condition) + "</td><td>" +
               HtmlEscape(t.message) + "</td></tr>\n";
    }
    *html += "</table>\n";
  }
  if (!run.checks.empty()) {
    *html +=
        "<h2>Checks</h2>\n<table>\n<tr><th>Check</th><th class=\"num\">Passed</th>"
        "<th class=\"num\">Failed</th></tr>\n";
    for (const CheckView& c : run.checks) {
      *html += "<tr><td>" + HtmlEscape(c.name) + "</td><td class=\"num\">" +
               std::to_string(c.passed) + "</td><td class=\"num\">" +
               std::to_string(c.failed) + "</td></tr>\n";
    }
    *html += "</table>\n";
  }
  if (!run.events.empty()) {
    *html += "<h2>Changes</h2>\n<ul>\n";
    for (const RunEvent& e : run.events)
      *html += "<li>" + HtmlEscape(FormatRunEvent(e)) + "</li>\n";
    *html += "</ul>\n";
  }
  if (!run.warnings.empty()) {
    *html += "<h2>Warnings</h2>\n<ul>\n";
    for (const std::string& w : run.warnings) *html += "<li>" + HtmlEscape(w) + "</li>\n";
    *html += "</ul>\n";
  }
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string JsonForScript(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatHtmlReport(const RunView& run, std::string_view run_json) {
  std::string title =
      "loadd report: run " + run.id + (run.name.empty() ? "" : " " + run.name);
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"" +
      std::string(kCsp) +
      "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>" +
      HtmlEscape(title) + "</title>\n<style>\n" + Inline(Embedded("uPlot.min.css")) +
      "\n</style>\n<style>\n" + Inline(Embedded("style.css")) +
      "\n</style>\n</head>\n<body>\n<main>\n<section>\n<h1>" + HtmlEscape(title) +
      "</h1>\n";
  Summary(run, &html);
  html +=
      "</section>\n<section>\n<h2>Over time</h2>\n<div class=\"charts\">\n"
      "<div id=\"chart-rps\" class=\"chart\"></div>\n"
      "<div id=\"chart-latency\" class=\"chart\"></div>\n"
      "<div id=\"chart-errors\" class=\"chart\"></div>\n</div>\n</section>\n<section>\n";
  Endpoints(run, &html);
  Details(run, &html);
  html += "</section>\n<p class=\"muted\">Written by loadctl " LOADD_VERSION
          ". Latencies are fleet-wide, from merged HdrHistograms.</p>\n</main>\n"
          "<script type=\"application/json\" id=\"run-data\">" +
          JsonForScript(run_json) + "</script>\n<script>\n" +
          Inline(Embedded("uPlot.iife.min.js")) + "\n</script>\n<script>\n" +
          Inline(Embedded("charts.js")) + "\n</script>\n<script>\n" +
          Inline(Embedded("report.js")) + "\n</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace loadd
