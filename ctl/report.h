// Text for people: the end-of-run report, a run's summary, and the run and
// worker tables. Pure functions of the parsed views, so tests compare text.
#ifndef LOADD_CTL_REPORT_H_
#define LOADD_CTL_REPORT_H_

#include <string>
#include <vector>

#include "ctl/run_view.h"

namespace loadd {

// "1 user", "2 users".
std::string Plural(int64_t n, const char* noun);

// "4.2s", "2m05s", "1h02m05s". Negative reads as zero.
std::string FormatSeconds(double seconds);
// One live-scaling event for people: "users 100 -> 300 at 100/s from 12.3s
// (asked at 12.0s by ci)"; a step reads "at once".
std::string FormatRunEvent(const RunEvent& event);

// Arrivals per second without needless decimals: "500/s", "2.5/s".
std::string FormatRate(double per_second);

// The load: "<N> users" (closed model) or "arrival rate <R>/s" (open model;
// for stages, their peak).
std::string FormatLoad(const RunView& run);

// "Run <id>  <name>  <state>  <elapsed>  <load>  <M> workers", plus a
// "Message: ..." line when the run says why it failed. Ends in '\n'.
std::string FormatRunHeader(const RunView& run);

// The header; for the open model a line saying latency is corrected; one row
// per endpoint and "Aggregated" (Locust's columns, latencies via
// FormatMicros); for the open model, the "Service time (uncorrected, from
// sending)" table; an "Errors:" line by kind; then, when there are any,
// "Dropped iterations: N (max_in_flight reached)", "Lost workers: h/1 at
// 3.2s, ..." and "Warnings:" with one indented message per line; then, when
// the run has any, "Checks:" (name, passed, failed, pass rate) and
// "Thresholds: N of M failed" (PASS or FAIL, key, condition, actual value),
// so a CI log ends with the verdict.
std::string FormatReport(const RunView& run);

// `loadctl status`: the header, one line of totals, the errors line, and the
// dropped, lost-workers and warnings lines as in the report.
std::string FormatRunSummary(const RunView& run);

std::string FormatRunsTable(const std::vector<RunSummary>& runs);
std::string FormatWorkersTable(const std::vector<WorkerView>& workers);

}  // namespace loadd

#endif  // LOADD_CTL_REPORT_H_
