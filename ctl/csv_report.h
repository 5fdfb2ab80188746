// `loadctl report --format csv|csv-history`: a run's statistics as the CSV
// files Locust writes (--csv PREFIX), so its users' spreadsheets and scripts
// read them. Pure functions of the parsed run; times are milliseconds.
#ifndef LOADD_CTL_CSV_REPORT_H_
#define LOADD_CTL_CSV_REPORT_H_

#include <string>
#include <string_view>

#include "ctl/run_view.h"

namespace loadd {

// Locust's _stats.csv: a header row, one row per endpoint, "Aggregated"
// last. Type and Name split "GET /a" into "GET" and "/a". The coordinator
// keeps p50, p90, p95, p99, p99.9 and max, so the 66%, 75%, 80%, 98% and
// 99.99% columns are empty. Average Content Size is bytes received per
// request, headers included.
std::string FormatStatsCsv(const RunView& run);

// Locust's _stats_history.csv, reduced to what the timeline keeps: one
// "Aggregated" row per second of the run. Timestamp is Unix seconds: the
// run's created_at plus the second (the run's own second when created_at
// does not parse).
std::string FormatHistoryCsv(const RunView& run);

// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds a
// comma, a quote or a line break.
std::string CsvField(std::string_view text);

// Microseconds as milliseconds with at most 3 decimals: 20051 -> "20.051".
std::string FormatCsvMillis(double us);

}  // namespace loadd

#endif  // LOADD_CTL_CSV_REPORT_H_
