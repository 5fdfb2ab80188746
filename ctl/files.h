// Files: the file system as loadctl uses it (plans in, reports out), behind
// an interface so tests run on an in-memory fake.
#ifndef LOADD_CTL_FILES_H_
#define LOADD_CTL_FILES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace loadd {

class Files {
 public:
  virtual ~Files() = default;
  virtual bool Exists(const std::string& path) = 0;
  // The whole file, refused (FileTooLarge) past max_bytes. Errors are
  // kInvalidArgument with the path, e.g. "plan.json: No such file or
  // directory".
  virtual Result<std::string> Read(const std::string& path, size_t max_bytes) = 0;
  // Replaces the file's content (via a temporary file and rename); the file
  // gets exactly mode (kReportFileMode unless the user asked otherwise).
  virtual Status Write(const std::string& path, const std::string& content,
                       uint32_t mode) = 0;
};

// Reports hold what a run's JSON holds (target URLs, names, public env
// values): readable by their owner alone unless `--mode` says otherwise.
inline constexpr uint32_t kReportFileMode = 0600;

// --mode as typed ("0644", "644", "600"): an octal mode from 0 to 0777.
// Empty gives kReportFileMode. Anything else is kInvalidArgument naming
// --mode.
Result<uint32_t> ParseFileMode(const std::string& text);

// The error for a file past its size limit: kInvalidArgument naming the
// path, "is larger than 8 MiB" (or "... than 100 bytes" below a MiB).
Status FileTooLarge(const std::string& path, size_t max_bytes);

// The real file system, relative paths from the current directory.
class RealFiles final : public Files {
 public:
  bool Exists(const std::string& path) override;
  Result<std::string> Read(const std::string& path, size_t max_bytes) override;
  Status Write(const std::string& path, const std::string& content,
               uint32_t mode) override;
};

}  // namespace loadd

#endif  // LOADD_CTL_FILES_H_
