#include "ctl/progress.h"

#include <cstdio>

#include "common/clock.h"
#include "common/units.h"
#include "ctl/report.h"

namespace loadd {

std::string ProgressTracker::Update(const RunView& run, int64_t now_ns) {
  double rps = 0;
  if (run.has_timeline_entry) {
    rps = run.last_timeline_rps;
  } else if (now_ns > prev_ns_ && run.requests >= prev_requests_) {
    rps = static_cast<double>(run.requests - prev_requests_) * kNsPerSec /
          static_cast<double>(now_ns - prev_ns_);
  }
  prev_ns_ = now_ns;
  prev_requests_ = run.requests;

  char rps_text[32];
  std::snprintf(rps_text, sizeof rps_text, "%.1f", rps);
  return run.state + "  " + FormatSeconds(run.elapsed_s) + "/" +
         FormatSeconds(run.duration_s) + "  users " + std::to_string(run.users) + "/" +
         std::to_string(run.target_users) + "  rps " + rps_text + "  p95 " +
         FormatMicros(run.aggregated.p95_us) + "  failures " +
         std::to_string(run.failures) + "  workers " + std::to_string(run.workers);
}

}  // namespace loadd
