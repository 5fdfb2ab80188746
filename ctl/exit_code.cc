#include "ctl/exit_code.h"

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
