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

// "Run <id>  <name>  <state>  <elapsed>  <N> users  <M> workers", plus a
// "Message: ..." line when the run says why it failed. Ends in '\n'.
std::string FormatRunHeader(const RunView& run);

// The header, one row per endpoint and "Aggregated" (Locust's columns,
// latencies via FormatMicros), and an "Errors:" line by kind.
std::string FormatReport(const RunView& run);

// `loadctl status`: the header, one line of totals, the errors line.
std::string FormatRunSummary(const RunView& run);

std::string FormatRunsTable(const std::vector<RunSummary>& runs);
std::string FormatWorkersTable(const std::vector<WorkerView>& workers);

}  // namespace loadd

#endif  // LOADD_CTL_REPORT_H_
