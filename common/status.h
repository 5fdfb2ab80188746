// Status and Result<T>: the one error model of loadd's core.
//
// A Status is either OK or carries a code, a message for people, and for
// invalid input the path of the offending field (a JSON path such as
// "$.requests[2].url", a flag such as "--users", or "line 12"). Functions
// that can fail return Status or Result<T>; exceptions thrown by libraries
// are caught once at the boundary and converted here.
#ifndef LOADD_COMMON_STATUS_H_
#define LOADD_COMMON_STATUS_H_

#include <optional>
#include <string>
#include <utility>

namespace loadd {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; path() says where
  kNotFound,            // the named thing (run, worker, file) does not exist
  kFailedPrecondition,  // valid input, wrong state (e.g. stop a finished run)
  kResourceExhausted,   // a bound was hit (body size, queue, operator limit)
  kUnauthenticated,     // missing or wrong credentials
  kPermissionDenied,    // authenticated, but not allowed
  kUnavailable,         // a peer is unreachable; trying again may help
  kDeadlineExceeded,    // gave up waiting
  kInternal,            // a broken invariant or an unexpected library error
};

const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string path = "")
      : code_(code), message_(std::move(message)), path_(std::move(path)) {}

  static Status Ok() { return Status(); }
  static Status Invalid(std::string path, std::string message) {
    return Status(StatusCode::kInvalidArgument, std::move(message), std::move(path));
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& path() const { return path_; }

  // "path: message" when a path is known, else the message alone.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string path_;
};

// Either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace loadd

#define LOADD_RETURN_IF_ERROR(expr) \
  do {                              \
    ::loadd::Status _st = (expr);   \
    if (!_st.ok()) return _st;      \
  } while (0)

#endif  // LOADD_COMMON_STATUS_H_
