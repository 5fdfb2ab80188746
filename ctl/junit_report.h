// `loadctl report --format junit` and `loadctl start --junit FILE`: a run's
// thresholds and checks as JUnit XML, which CI systems (GitLab, Jenkins,
// GitHub test reporters) show as test results.
#ifndef LOADD_CTL_JUNIT_REPORT_H_
#define LOADD_CTL_JUNIT_REPORT_H_

#include <string>
#include <string_view>

#include "ctl/run_view.h"

namespace loadd {

// One <testsuite name="loadd RUN_ID" tests=".." failures=".." time="..">:
//   - a testcase per threshold (classname "loadd.thresholds", name "KEY
//     CONDITION"); a failed one has <failure message="...">, a passed one
//     its message as <system-out>;
//   - a testcase per check (classname "loadd.checks"); one with failures has
//     <failure message="N of M failed">, one without "all M passed" as
//     <system-out>;
//   - a testcase "run STATE" (classname "loadd.run") when the run has no
//     thresholds and no checks, or did not finish; it fails unless the run
//     finished, so the file never reads green for a failed run.
std::string FormatJunit(const RunView& run);

// Text for XML content and attribute values: & < > " ' as entities, tab
// and line breaks as character references, other control bytes (which XML
// 1.0 cannot hold) as '?'.
std::string XmlEscape(std::string_view text);

}  // namespace loadd

#endif  // LOADD_CTL_JUNIT_REPORT_H_
