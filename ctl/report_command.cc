#include "ctl/report_command.h"

#include "ctl/api_calls.h"
#include "ctl/csv_report.h"
#include "ctl/files.h"
#include "ctl/junit_report.h"
#include "ctl/report.h"
#include "ctl/report_html.h"

namespace loadd {
namespace {

// A format computed from GET /v1/runs/{id} (with the timeline if asked).
template <std::string (*kFormat)(const RunView&), bool kTimeline>
Status FromRun(ApiClient* api, const std::string& id, std::string* text) {
  JsonReply reply;
  RunView run;
  LOADD_RETURN_IF_ERROR(FetchRun(api, id, kTimeline, &reply, &run));
  *text = kFormat(run);
  return Status::Ok();
}

// The coordinator's JSON as received, timeline included.
Status RunJson(ApiClient* api, const std::string& id, std::string* text) {
  JsonReply reply;
  RunView run;
  LOADD_RETURN_IF_ERROR(FetchRun(api, id, /*timeline=*/true, &reply, &run));
  *text = reply.body + "\n";
  return Status::Ok();
}

// One self-contained HTML file: the run's JSON embedded, charts and tables.
Status Html(ApiClient* api, const std::string& id, std::string* text) {
  JsonReply reply;
  RunView run;
  LOADD_RETURN_IF_ERROR(FetchRun(api, id, /*timeline=*/true, &reply, &run));
  *text = FormatHtmlReport(run, reply.body);
  return Status::Ok();
}

Status Hlog(ApiClient* api, const std::string& id, std::string* text) {
  return FetchHlog(api, id, text);
}

constexpr ReportFormat kFormats[] = {
    {"table", FromRun<FormatReport, true>},
    {"json", RunJson},
    {"csv", FromRun<FormatStatsCsv, false>},
    {"csv-history", FromRun<FormatHistoryCsv, true>},
    {"hlog", Hlog},
    {"junit", FromRun<FormatJunit, false>},
    {"html", Html},
};

std::string FormatNames() {
  std::string names;
  for (const ReportFormat& f : kFormats)
    names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

}  // namespace

std::span<const ReportFormat> ReportFormats() { return kFormats; }

Result<const ReportFormat*> ChooseReportFormat(const Options& options) {
  std::string name = options.format;
  if (options.json && !name.empty() && name != "json") {
    return Status::Invalid("--format", "\"" + name + "\" cannot be combined with --json");
  }
  if (name.empty()) name = options.json ? "json" : "table";
  for (const ReportFormat& f : kFormats) {
    if (name == f.name) return &f;
  }
  return Status::Invalid("--format", "\"" + name + "\" is not one of " + FormatNames());
}

Result<Outcome> RunReport(const Options& options, Env* env) {
  LOADD_RETURN_IF_ERROR(CheckRunId(options.run_id));
  Result<uint32_t> mode = ParseFileMode(options.file_mode);
  if (!mode.ok()) return mode.status();
  Result<const ReportFormat*> format = ChooseReportFormat(options);
  if (!format.ok()) return format.status();
  Result<ApiClient*> api = env->connector->Connect();
  if (!api.ok()) return api.status();
  std::string text;
  LOADD_RETURN_IF_ERROR((*format)->render(*api, options.run_id, &text));
  if (!options.output_file.empty()) {
    LOADD_RETURN_IF_ERROR(env->files->Write(options.output_file, text, *mode));
  } else {
    *env->out << text;
  }
  return Outcome::kSuccess;
}

}  // namespace loadd
