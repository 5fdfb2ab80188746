// Files: the file system as loadctl uses it (plans in, reports out), behind
// an interface so tests run on an in-memory fake.
#ifndef LOADD_CTL_FILES_H_
#define LOADD_CTL_FILES_H_

#include <string>

#include "common/status.h"

namespace loadd {

class Files {
 public:
  virtual ~Files() = default;
  virtual bool Exists(const std::string& path) = 0;
  // Errors are kInvalidArgument with the path, e.g. "plan.json: No such file or
  // directory".
  virtual Result<std::string> Read(const std::string& path) = 0;
  // Replaces the file's content (via a temporary file and rename).
  virtual Status Write(const std::string& path, const std::string& content) = 0;
};

// The real file system, relative paths from the current directory.
class RealFiles final : public Files {
 public:
  // Plans larger than this are refused: the coordinator takes 1 MiB bodies.
  static constexpr size_t kMaxReadBytes = size_t{16} << 20;

  bool Exists(const std::string& path) override;
  Result<std::string> Read(const std::string& path) override;
  Status Write(const std::string& path, const std::string& content) override;
};

}  // namespace loadd

#endif  // LOADD_CTL_FILES_H_
