// `loadctl report RUN [--format F] [--output FILE]`: one run in one of
// several formats, each a row of a table.
#ifndef LOADD_CTL_REPORT_COMMAND_H_
#define LOADD_CTL_REPORT_COMMAND_H_

#include <span>
#include <string>
#include <string_view>

#include "ctl/env.h"
#include "ctl/exit_code.h"

namespace loadd {

struct ReportFormat {
  const char* name;
  // Fetches what the format needs from the coordinator and renders it.
  Status (*render)(ApiClient* api, const std::string& id, std::string* text);
};

// table (the default), json, csv, csv-history, hlog, junit, html.
std::span<const ReportFormat> ReportFormats();

// The format --format (or --json) asks for. An unknown name, or --json with
// another format, is kInvalidArgument naming --format.
Result<const ReportFormat*> ChooseReportFormat(const Options& options);

// Writes the report to --output (replacing the file) or to stdout. Always
// kSuccess when it worked: the run's verdict is start's business.
Result<Outcome> RunReport(const Options& options, Env* env);

}  // namespace loadd

#endif  // LOADD_CTL_REPORT_COMMAND_H_
