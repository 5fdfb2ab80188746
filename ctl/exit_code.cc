#include "ctl/exit_code.h"

#include "common/plan.h"

namespace loadd {

int ExitCodeFor(const Result<Outcome>& result) {
  if (result.ok()) {
    switch (*result) {
      case Outcome::kSuccess:
        return kExitOk;
      case Outcome::kThresholdsFailed:
        return kExitThresholdsFailed;
      case Outcome::kRunError:
        return kExitRunError;
    }
    return kExitRunError;
  }
  // The run queue's two refusals, known by the field or flag they name.
  const std::string& path = result.status().path();
  if ((result.status().code() == StatusCode::kFailedPrecondition &&
       path == kQueueFieldPath) ||
      (result.status().code() == StatusCode::kResourceExhausted &&
       path == kMaxQueuedFlag)) {
    return kExitFleetBusy;
  }
  switch (result.status().code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return kExitInvalidInput;
    case StatusCode::kOk:  // a Result built from an OK Status carries no value: a bug
    case StatusCode::kFailedPrecondition:
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kInternal:
      return kExitUnavailable;
  }
  return kExitUnavailable;
}

std::string FormatError(const Status& status) {
  if (status.ok()) return "loadctl: internal error: a command failed without a reason";
  return "loadctl: " + status.ToString();
}

}  // namespace loadd
