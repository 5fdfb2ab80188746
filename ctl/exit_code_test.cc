#include "ctl/exit_code.h"

#include <gtest/gtest.h>

namespace loadd {
namespace {

TEST(ExitCodeTest, ErrorsMapByCode) {
  struct Case {
    StatusCode code;
    int exit_code;
  };
  const Case kCases[] = {
      {StatusCode::kInvalidArgument, kExitInvalidInput},
      {StatusCode::kNotFound, kExitInvalidInput},
      {StatusCode::kFailedPrecondition, kExitUnavailable},
      {StatusCode::kResourceExhausted, kExitUnavailable},
      {StatusCode::kUnauthenticated, kExitUnavailable},
      {StatusCode::kPermissionDenied, kExitUnavailable},
      {StatusCode::kUnavailable, kExitUnavailable},
      {StatusCode::kDeadlineExceeded, kExitUnavailable},
      {StatusCode::kInternal, kExitUnavailable},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(ExitCodeFor(Status(c.code, "x")), c.exit_code) << StatusCodeName(c.code);
  }
}

TEST(ExitCodeTest, TheRunQueuesRefusalsAreFleetBusy) {
  EXPECT_EQ(kExitFleetBusy, 5);
  // --no-queue and the workers are busy (409), the queue is full (429).
  EXPECT_EQ(ExitCodeFor(Status(StatusCode::kFailedPrecondition, "busy", "$.queue")),
            kExitFleetBusy);
  EXPECT_EQ(ExitCodeFor(Status(StatusCode::kResourceExhausted, "full", "--max-queued")),
            kExitFleetBusy);
  // Other refusals keep their codes, whatever their path.
  EXPECT_EQ(ExitCodeFor(Status(StatusCode::kFailedPrecondition, "no live workers")),
            kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(Status(StatusCode::kInvalidArgument, "bad", "$.queue")),
            kExitInvalidInput);
}

TEST(ExitCodeTest, OutcomesMapToTheirCodes) {
  EXPECT_EQ(ExitCodeFor(Outcome::kSuccess), 0);
  EXPECT_EQ(ExitCodeFor(Outcome::kThresholdsFailed), 1);
  EXPECT_EQ(ExitCodeFor(Outcome::kRunError), 2);
}

TEST(ExitCodeTest, ResultWithoutValueIsNeverSuccess) {
  // Result<T>(Status::Ok()) carries no value; it must not read as success.
  EXPECT_NE(ExitCodeFor(Status::Ok()), kExitOk);
}

TEST(ExitCodeTest, CodesAreTheDocumentedNumbers) {
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitThresholdsFailed, 1);
  EXPECT_EQ(kExitRunError, 2);
  EXPECT_EQ(kExitInvalidInput, 3);
  EXPECT_EQ(kExitUnavailable, 4);
}

TEST(FormatErrorTest, NamesThePathWhenKnown) {
  EXPECT_EQ(
      FormatError(Status::Invalid("$.users", "must be between 1 and 10000000, got -5")),
      "loadctl: $.users: must be between 1 and 10000000, got -5");
  EXPECT_EQ(FormatError(Status(StatusCode::kUnavailable, "cannot reach the coordinator")),
            "loadctl: cannot reach the coordinator");
}

}  // namespace
}  // namespace loadd
