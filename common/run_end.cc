#include "common/run_end.h"

namespace loadd {
namespace {

// Indexed by EndReason.
constexpr const char* kEndReasonNames[] = {
    "completed",  "stopped",          "aborted_by_threshold",
    "no_workers", "all_workers_lost", "interrupted",
};
static_assert(sizeof kEndReasonNames / sizeof kEndReasonNames[0] == kEndReasonCount);

}  // namespace

const char* EndReasonName(EndReason reason) {
  return kEndReasonNames[static_cast<int>(reason)];
}

std::optional<EndReason> EndReasonFromName(std::string_view name) {
  for (int i = 0; i < kEndReasonCount; ++i) {
    if (name == kEndReasonNames[i]) return static_cast<EndReason>(i);
  }
  return std::nullopt;
}

const char* FinalStatsName(FinalStats status) {
  switch (status) {
    case FinalStats::kPending:
      return "pending";
    case FinalStats::kReceived:
      return "received";
    case FinalStats::kMissing:
      return "missing";
    case FinalStats::kLost:
      return "lost";
  }
  return "pending";
}

}  // namespace loadd
