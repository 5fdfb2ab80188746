#include "daemon/coordinator/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/json.h"
#include "common/log.h"

namespace loadd {
namespace {

int64_t RealWallNowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * kNsPerSec + ts.tv_nsec;
}

// "2026-12-07T13:11:27.123Z"
std::string IsoTimeMs(int64_t epoch_ns) {
  std::time_t s = static_cast<std::time_t>(epoch_ns / kNsPerSec);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((epoch_ns % kNsPerSec) / kNsPerMs));
  return buf;
}

// Text from a client (a run id, a message quoting one) as valid, short JSON.
std::string Clean(std::string_view text, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < text.size() && out.size() < max_bytes; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

int OpenAppend(const std::string& path) {
  return open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& dir,
                                                 const Clock* clock,
                                                 std::function<int64_t()> wall_now_ns,
                                                 size_t max_bytes) {
  std::string path = dir + "/" + kAuditFileName;
  int fd = OpenAppend(path);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) close(fd);
    return Status::Invalid("--state-dir",
                           "cannot open the audit log " + path + ": " + why);
  }
  // An existing file keeps its content but not a mode others could read.
  if ((st.st_mode & 077) != 0) fchmod(fd, 0600);
  if (!wall_now_ns) wall_now_ns = RealWallNowNs;
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(path), fd,
                                                static_cast<size_t>(st.st_size), clock,
                                                std::move(wall_now_ns), max_bytes));
}

AuditLog::AuditLog(std::string path, int fd, size_t size, const Clock* clock,
                   std::function<int64_t()> wall_now_ns, size_t max_bytes)
    : path_(std::move(path)),
      clock_(clock),
      wall_now_ns_(std::move(wall_now_ns)),
      max_bytes_(max_bytes),
      fd_(fd),
      size_(size) {
  refilled_ns_ = clock_->NowNs();
}

AuditLog::~AuditLog() {
  MutexLock lock(&mu_);
  if (fd_ >= 0) close(fd_);
}

std::string AuditLog::Line(const AuditEntry& e) const {
  return ToJson([&](JsonWriter* w) {
           w->StartObject();
           WriteField(w, "time", IsoTimeMs(wall_now_ns_()));
           WriteField(w, "token", e.token);
           WriteField(w, "address", Clean(e.address, 100));
           WriteField(w, "action", e.action);
           WriteField(w, "run", Clean(e.run_id, 100));
           WriteField(w, "outcome", e.ok ? "ok" : "refused");
           if (!e.ok) {
             WriteField(w, "code", static_cast<int64_t>(e.code));
             WriteField(w, "reason", Clean(e.reason, kMaxReasonBytes));
           }
           if (e.count > 0) WriteField(w, "count", e.count);
           if (!e.from.empty()) WriteField(w, "from", Clean(e.from, 100));
           if (!e.to.empty()) WriteField(w, "to", Clean(e.to, 100));
           w->EndObject();
         }) +
         "\n";
}

bool AuditLog::AdmitRefusal() {
  int64_t now = clock_->NowNs();
  double refill = static_cast<double>(now - refilled_ns_) / kNsPerSec * kRefusalsPerSec;
  tokens_ = std::min<double>(kRefusalBurst, tokens_ + refill);
  refilled_ns_ = now;
  if (tokens_ < 1) {
    ++suppressed_;
    return false;
  }
  tokens_ -= 1;
  return true;
}

void AuditLog::Record(const AuditEntry& entry) {
  std::string line = Line(entry);
  MutexLock lock(&mu_);
  if (!entry.ok && !AdmitRefusal()) return;
  if (suppressed_ > 0 && !entry.ok) {
    AuditEntry note;
    note.action = "suppressed";
    note.ok = false;
    note.reason = "refused attempts left out by the rate limit";
    note.count = suppressed_;
    Write(Line(note));
    suppressed_ = 0;
  }
  Write(line);
}

void AuditLog::Write(const std::string& line) {
  if (fd_ >= 0 && size_ > 0 && size_ + line.size() > max_bytes_) {
    std::string old = path_ + ".1";
    close(fd_);
    fd_ = -1;
    if (rename(path_.c_str(), old.c_str()) != 0) {
      LOG_WARN("audit log: cannot rotate %s: %s", path_.c_str(), std::strerror(errno));
    }
    fd_ = OpenAppend(path_);
    size_ = 0;
  }
  ssize_t n = fd_ >= 0 ? write(fd_, line.data(), line.size()) : -1;
  if (n > 0) size_ += static_cast<size_t>(n);
  if (n == static_cast<ssize_t>(line.size())) return;
  int64_t now = clock_->NowNs();
  if (failure_logged_ns_ < 0 || now - failure_logged_ns_ >= 60 * kNsPerSec) {
    failure_logged_ns_ = now;
    LOG_ERROR("audit log: cannot write %s: %s", path_.c_str(),
              fd_ < 0 ? "not open" : std::strerror(errno));
  }
}

}  // namespace loadd
