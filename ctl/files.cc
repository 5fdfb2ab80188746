#include "ctl/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace loadd {
namespace {

Status Errno(const std::string& path, const char* doing) {
  return Status::Invalid(path, std::string(doing) + ": " + std::strerror(errno));
}

}  // namespace

Status FileTooLarge(const std::string& path, size_t max_bytes) {
  constexpr size_t kMiB = size_t{1} << 20;
  std::string limit = max_bytes >= kMiB && max_bytes % kMiB == 0
                          ? std::to_string(max_bytes / kMiB) + " MiB"
                          : std::to_string(max_bytes) + " bytes";
  return Status::Invalid(path, "is larger than " + limit);
}

Result<uint32_t> ParseFileMode(const std::string& text) {
  if (text.empty()) return kReportFileMode;
  uint32_t mode = 0;
  bool valid = text.size() <= 4;
  for (char c : text) {
    valid = valid && c >= '0' && c <= '7';
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (!valid || mode > 0777) {
    return Status::Invalid(
        "--mode", "\"" + text.substr(0, 20) +
                      "\" is not a file mode in octal from 0000 to 0777 (e.g. 0644)");
  }
  return mode;
}

bool RealFiles::Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

Result<std::string> RealFiles::Read(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(path, "cannot read");
  std::string content;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status st = Errno(path, "cannot read");
      close(fd);
      return st;
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > max_bytes) {
      close(fd);
      return FileTooLarge(path, max_bytes);
    }
  }
  close(fd);
  return content;
}

Status RealFiles::Write(const std::string& path, const std::string& content,
                        uint32_t mode) {
  std::string tmp = path + ".tmp";
  // Created owner-only, then given the mode asked for as it is (the umask
  // cannot widen it, and does not narrow a mode the user typed).
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Errno(path, "cannot write");
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    Status st = Errno(path, "cannot set its mode");
    close(fd);
    unlink(tmp.c_str());
    return st;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status st = Errno(path, "cannot write");
      close(fd);
      unlink(tmp.c_str());
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = Errno(path, "cannot write");
    unlink(tmp.c_str());
    return st;
  }
  return Status::Ok();
}

}  // namespace loadd
