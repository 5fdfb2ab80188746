#include "ctl/compare_command.h"

#include <cmath>

#include "ctl/api_calls.h"
#include "ctl/live_view.h"
#include "ctl/table.h"

namespace loadd {
namespace {

constexpr const char* kMetrics[] = {"rps", "error_rate", "p50", "p90", "p95",
                                    "p99", "p999",       "max", "mean"};

std::string MetricLabel(const std::string& key) {
  if (key == "p999") return "p99.9";
  if (key == "rps") return "requests/s";
  if (key == "error_rate") return "error rate";
  return key;
}

Status Missing(const std::string& where) {
  return Status(StatusCode::kInternal,
                "GET /v1/compare: the answer has no valid " + where);
}

std::optional<double> NumberOrNull(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsNumber()) return std::nullopt;
  return it->value.GetDouble();
}

Status ParseGroup(const rapidjson::Value& group, CompareView* view) {
  if (!group.IsObject() || !group.HasMember("name") || !group["name"].IsString()) {
    return Missing("endpoint name");
  }
  std::string name = group["name"].GetString();
  for (const char* key : kMetrics) {
    auto it = group.FindMember(key);
    if (it == group.MemberEnd() || !it->value.IsObject()) continue;
    const rapidjson::Value& m = it->value;
    CompareRow row;
    row.endpoint = name;
    row.metric = key;
    row.latency = m.HasMember("base_us");
    std::optional<double> base = NumberOrNull(m, row.latency ? "base_us" : "base");
    std::optional<double> candidate =
        NumberOrNull(m, row.latency ? "candidate_us" : "candidate");
    auto verdict = m.FindMember("verdict");
    auto worse = m.FindMember("worse");
    if (!base || !candidate || verdict == m.MemberEnd() || !verdict->value.IsString() ||
        worse == m.MemberEnd() || !worse->value.IsString()) {
      return Missing(name + " " + key);
    }
    row.base = *base;
    row.candidate = *candidate;
    row.change_pct = NumberOrNull(m, "change_pct");
    row.p_value = NumberOrNull(m, "p_value");
    row.verdict = verdict->value.GetString();
    row.worse = worse->value.GetString();
    view->rows.push_back(std::move(row));
  }
  return Status::Ok();
}

std::string Value(const CompareRow& row, double value) {
  if (row.latency) return Printf("%.2fms", value / 1000);
  if (row.metric == "error_rate") return Printf("%.2f%%", value * 100);
  return Printf("%.1f", value);
}

std::string Change(const CompareRow& row) {
  if (!row.change_pct) return row.candidate == row.base ? "0%" : "new";
  return Printf("%+.1f%%", *row.change_pct);
}

std::string PValue(const CompareRow& row) {
  if (!row.p_value) return "-";
  if (*row.p_value < 0.001) return "<0.001";
  return Printf("%.3f", *row.p_value);
}

std::string Verdict(const CompareRow& row) {
  if (row.verdict == "no_change") return "no change";
  std::string text = row.verdict;
  if (Direction(row) < 0 && !row.latency) text += " (worse)";
  if (Direction(row) > 0 && !row.latency) text += " (better)";
  return text;
}

std::string Header(const CompareView& view) {
  return "Base " + view.base + " (" + std::to_string(view.base_seconds) +
         " s) vs candidate " + view.candidate + " (" +
         std::to_string(view.candidate_seconds) + " s); a verdict needs p < " +
         Printf("%g", view.alpha) + " and a change of at least " +
         Printf("%g", view.min_change_pct) + "%\n";
}

// Markdown table cells: a '|' would end the cell, a line break the row.
std::string Cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Status ParseCompareView(const rapidjson::Value& doc, CompareView* view) {
  if (!doc.IsObject()) return Missing("object");
  for (const char* key : {"base", "candidate"}) {
    if (!doc.HasMember(key) || !doc[key].IsString()) return Missing(key);
  }
  view->base = doc["base"].GetString();
  view->candidate = doc["candidate"].GetString();
  if (doc.HasMember("options") && doc["options"].IsObject()) {
    view->min_change_pct = NumberOrNull(doc["options"], "min_change_pct").value_or(0);
    view->alpha = NumberOrNull(doc["options"], "alpha").value_or(0);
  }
  if (doc.HasMember("seconds") && doc["seconds"].IsObject()) {
    const rapidjson::Value& s = doc["seconds"];
    if (s.HasMember("base") && s["base"].IsObject()) {
      view->base_seconds =
          static_cast<int64_t>(NumberOrNull(s["base"], "used").value_or(0));
    }
    if (s.HasMember("candidate") && s["candidate"].IsObject()) {
      view->candidate_seconds =
          static_cast<int64_t>(NumberOrNull(s["candidate"], "used").value_or(0));
    }
  }
  if (!doc.HasMember("aggregated")) return Missing("aggregated");
  LOADD_RETURN_IF_ERROR(ParseGroup(doc["aggregated"], view));
  if (!doc.HasMember("endpoints") || !doc["endpoints"].IsArray()) {
    return Missing("endpoints");
  }
  for (const auto& e : doc["endpoints"].GetArray()) {
    LOADD_RETURN_IF_ERROR(ParseGroup(e, view));
  }
  if (doc.HasMember("warnings") && doc["warnings"].IsArray()) {
    for (const auto& w : doc["warnings"].GetArray()) {
      if (!w.IsObject() || !w.HasMember("kind") || !w["kind"].IsString() ||
          !w.HasMember("message") || !w["message"].IsString()) {
        return Missing("warning");
      }
      view->warnings.emplace_back(w["kind"].GetString(), w["message"].GetString());
    }
  }
  return Status::Ok();
}

int Direction(const CompareRow& row) {
  if (row.verdict == "no_change") return 0;
  if (row.verdict == "slower") return -1;
  if (row.verdict == "faster") return 1;
  return row.verdict == row.worse ? -1 : 1;
}

std::string FormatCompareTable(const CompareView& view, bool color) {
  Table table({{"ENDPOINT", Table::Align::kLeft},
               {"METRIC", Table::Align::kLeft},
               {"BASE", Table::Align::kRight},
               {"CANDIDATE", Table::Align::kRight},
               {"CHANGE", Table::Align::kRight},
               {"P", Table::Align::kRight},
               {"VERDICT", Table::Align::kLeft}});
  for (const CompareRow& row : view.rows) {
    table.AddRow({row.endpoint, MetricLabel(row.metric), Value(row, row.base),
                  Value(row, row.candidate), Change(row), PValue(row), Verdict(row)});
  }
  std::string text = table.Format();
  std::string out = Header(view);
  // Colour whole lines (escape codes inside cells would skew the widths).
  size_t pos = 0, line = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view l(text.data() + pos, end - pos);
    int direction = line == 0 ? 0 : Direction(view.rows[line - 1]);
    if (color && direction != 0) {
      out += direction < 0 ? "\x1b[31m" : "\x1b[32m";
      out += l;
      out += "\x1b[0m\n";
    } else {
      out += std::string(l) + "\n";
    }
    pos = end + 1;
    ++line;
  }
  if (!view.warnings.empty()) out += "Warnings:\n";
  for (const auto& [kind, message] : view.warnings) {
    out += "  " + kind + ": " + message + "\n";
  }
  return out;
}

std::string FormatCompareMarkdown(const CompareView& view) {
  int worse = 0, better = 0;
  for (const CompareRow& row : view.rows) {
    worse += Direction(row) < 0;
    better += Direction(row) > 0;
  }
  std::string out =
      "### loadd: `" + view.candidate + "` compared with `" + view.base + "`\n\n";
  out += worse ? "**" + std::to_string(worse) + " metric(s) worse**" : "Nothing worse";
  out += ", " + std::to_string(better) + " better (p < " + Printf("%g", view.alpha) +
         " and a change of at least " + Printf("%g", view.min_change_pct) + "%; " +
         std::to_string(view.base_seconds) + " and " +
         std::to_string(view.candidate_seconds) + " steady seconds).\n\n";
  out += "| Endpoint | Metric | Base | Candidate | Change | p | Verdict |\n";
  out += "|---|---|--:|--:|--:|--:|---|\n";
  for (const CompareRow& row : view.rows) {
    std::string verdict = Verdict(row);
    if (Direction(row) < 0) verdict = "**" + verdict + "**";
    out += "| " + Cell(row.endpoint) + " | " + MetricLabel(row.metric) + " | " +
           Value(row, row.base) + " | " + Value(row, row.candidate) + " | " +
           Change(row) + " | " + PValue(row) + " | " + verdict + " |\n";
  }
  if (!view.warnings.empty()) out += "\nWarnings:\n\n";
  for (const auto& [kind, message] : view.warnings) {
    out += "- " + kind + ": " + Cell(message) + "\n";
  }
  return out;
}

Result<Outcome> RunCompare(const Options& options, Env* env) {
  LOADD_RETURN_IF_ERROR(CheckRunId(options.run_id));
  LOADD_RETURN_IF_ERROR(CheckRunId(options.candidate_id));
  std::string format =
      options.format.empty() ? (options.json ? "json" : "table") : options.format;
  if (format != "table" && format != "json" && format != "markdown") {
    return Status::Invalid("--format",
                           "must be table, json or markdown, got \"" + format + "\"");
  }
  std::string query =
      "/v1/compare?base=" + options.run_id + "&candidate=" + options.candidate_id;
  if (options.min_change_pct) {
    if (!(*options.min_change_pct >= 0 && *options.min_change_pct <= 1000)) {
      return Status::Invalid("--min-change", "must be a percentage from 0 to 1000");
    }
    query += "&min_change=" + Printf("%g", *options.min_change_pct);
  }
  if (options.include_ramp) query += "&include_ramp=1";
  Result<ApiClient*> api = env->connector->Connect();
  if (!api.ok()) return api.status();
  JsonReply reply;
  LOADD_RETURN_IF_ERROR(GetJson(*api, query, &reply));
  CompareView view;
  LOADD_RETURN_IF_ERROR(ParseCompareView(reply.doc, &view));
  if (format == "json") {
    *env->out << reply.body << '\n';
  } else if (format == "markdown") {
    *env->out << FormatCompareMarkdown(view);
  } else {
    bool color = UseLiveView(env->out_is_tty, env->term, env->no_color, options.no_color);
    *env->out << FormatCompareTable(view, color);
  }
  bool worse = false;
  for (const CompareRow& row : view.rows) worse = worse || Direction(row) < 0;
  return options.fail_on_worse && worse ? Outcome::kThresholdsFailed : Outcome::kSuccess;
}

}  // namespace loadd
