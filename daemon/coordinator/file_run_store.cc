#include "daemon/coordinator/file_run_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "common/log.h"

namespace loadd {
namespace {

constexpr size_t kRecordHeaderBytes = 8;  // length, CRC-32
constexpr size_t kCoveredBytes = 16;      // seconds bytes, seconds records

Status IoError(const std::string& what, const std::string& path, int err) {
  return Status(StatusCode::kUnavailable, what + " " + path + ": " + std::strerror(err),
                path);
}

Status Damaged(const std::string& path, const std::string& why) {
  return Status(StatusCode::kInvalidArgument, "damaged: " + why, path);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLE(std::string_view bytes, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  return v;
}

uint32_t Crc32(std::string_view payload) {
  return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(payload.data()),
                                     static_cast<uInt>(payload.size())));
}

void AppendRecord(std::string* out, std::string_view payload) {
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU32(out, Crc32(payload));
  out->append(payload);
}

// Splits data into records; every byte must belong to a whole, intact one.
Status ParseRecords(std::string_view data, const std::string& path,
                    std::vector<std::string>* out) {
  size_t at = 0;
  while (at < data.size()) {
    if (data.size() - at < kRecordHeaderBytes) {
      return Damaged(path, "torn record header at byte " + std::to_string(at));
    }
    uint64_t len = GetLE(data.substr(at), 4);
    uint32_t crc = static_cast<uint32_t>(GetLE(data.substr(at + 4), 4));
    if (len > data.size() - at - kRecordHeaderBytes) {
      return Damaged(path, "record at byte " + std::to_string(at) + " runs past the end");
    }
    std::string_view payload = data.substr(at + kRecordHeaderBytes, len);
    if (Crc32(payload) != crc) {
      return Damaged(path,
                     "record at byte " + std::to_string(at) + " fails its checksum");
    }
    out->emplace_back(payload);
    at += kRecordHeaderBytes + len;
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data, off_t offset, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = pwrite(fd, data.data(), data.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot write", path, errno);
    data.remove_prefix(static_cast<size_t>(n));
    offset += n;
  }
  return Status::Ok();
}

const char* FileKind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

Status NotRegular(const std::string& path, const char* kind) {
  return Damaged(path, std::string("is ") + kind +
                           ", not a regular file; the run store opens only regular "
                           "files (remove it)");
}

// Opens path only when it is a regular file, without waiting: a symbolic
// link is not followed (O_NOFOLLOW), a FIFO does not block the open
// (O_NONBLOCK: a reader gets it at once, a writer without a reader ENXIO),
// and a FIFO, device, socket or directory is closed again unread. Errors
// name the path; ENOENT gives NotFound.
Result<int> OpenRegular(const std::string& path, int flags, mode_t mode = 0) {
  int fd =
      open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, mode);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status(StatusCode::kNotFound, "no file " + path, path);
    if (err == ELOOP) return NotRegular(path, "a symbolic link");
    if (err == ENXIO) return NotRegular(path, "a FIFO");
    return IoError("cannot open", path, err);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return IoError("cannot stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return NotRegular(path, FileKind(st.st_mode));
  }
  return fd;
}

Status FsyncDir(const std::string& dir) {
  Fd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("cannot open", dir, errno);
  if (fsync(fd.get()) != 0) return IoError("cannot fsync", dir, errno);
  return Status::Ok();
}

// Reads at most `want` bytes from the start of path (all of it when the
// file is shorter); a file over `cap` bytes is refused, and so is
// anything but a regular file (OpenRegular). ENOENT gives NotFound.
Result<std::string> ReadPrefix(const std::string& path, size_t want, size_t cap) {
  Result<int> opened = OpenRegular(path, O_RDONLY);
  if (!opened.ok()) return opened.status();
  Fd fd(*opened);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return IoError("cannot stat", path, errno);
  size_t size = static_cast<size_t>(st.st_size);
  if (std::min(size, want) > cap) {
    return Status(StatusCode::kResourceExhausted,
                  "is " + std::to_string(size) + " bytes, over the " +
                      std::to_string(cap >> 20) + " MiB cap for a stored run; not loaded",
                  path);
  }
  std::string out(std::min(size, want), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n =
        pread(fd.get(), out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read", path, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

Status MkdirP(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string part = dir.substr(0, slash);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return IoError("cannot create", part, errno);
    if (slash == std::string::npos) return Status::Ok();
  }
}

Status StateDirError(const Status& st, const std::string& dir) {
  return Status(StatusCode::kInvalidArgument,
                dir + " is not usable: " + st.message() +
                    "; create it for the coordinator's user (mode 0700) or pass another "
                    "--state-dir",
                "--state-dir");
}

}  // namespace

Result<std::unique_ptr<FileRunStore>> FileRunStore::Open(const std::string& dir) {
  if (dir.empty()) {
    return Status::Invalid("--state-dir",
                           "is empty; give a directory the coordinator may "
                           "write, e.g. /var/lib/loadd");
  }
  if (Status st = MkdirP(dir); !st.ok()) return StateDirError(st, dir);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0)
    return StateDirError(IoError("cannot stat", dir, errno), dir);
  if (!S_ISDIR(st.st_mode))
    return StateDirError(Status(StatusCode::kInvalidArgument, "not a directory"), dir);
  if (access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return StateDirError(IoError("cannot write to", dir, errno), dir);
  }
  std::string runs = dir + "/runs";
  if (mkdir(runs.c_str(), 0700) != 0 && errno != EEXIST) {
    return StateDirError(IoError("cannot create", runs, errno), dir);
  }
  std::string lock = dir + "/lock";
  Result<int> opened = OpenRegular(lock, O_RDWR | O_CREAT, 0600);
  if (!opened.ok()) return StateDirError(opened.status(), dir);
  int fd = *opened;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return Status(StatusCode::kFailedPrecondition,
                    dir + " is in use by another coordinator (" + lock +
                        " is locked); give each coordinator its own --state-dir",
                    "--state-dir");
    }
    return StateDirError(IoError("cannot lock", lock, err), dir);
  }
  return std::unique_ptr<FileRunStore>(new FileRunStore(dir, fd));
}

FileRunStore::~FileRunStore() { close(lock_fd_); }

Result<FileRunStore::Covered> FileRunStore::CoveredOnDisk(const std::string& id) {
  std::string path = RunDir(id) + "/state";
  Result<std::string> bytes = ReadPrefix(path, SIZE_MAX, kMaxStateBytes + 64);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return Covered{};
    return bytes.status();
  }
  std::vector<std::string> records;
  LOADD_RETURN_IF_ERROR(ParseRecords(*bytes, path, &records));
  if (records.size() != 1 || records[0].size() < kCoveredBytes) {
    return Damaged(path, "not one state record");
  }
  return Covered{GetLE(records[0], 8), GetLE(std::string_view(records[0]).substr(8), 8)};
}

Status FileRunStore::AppendSeconds(const std::string& id, const Covered& from,
                                   const std::vector<std::string>& seconds, Covered* to) {
  std::string path = RunDir(id) + "/seconds";
  std::string bytes;
  for (const std::string& s : seconds) AppendRecord(&bytes, s);
  if (from.bytes + bytes.size() > kMaxSecondsBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "run " + id + ": its seconds would pass the " +
                      std::to_string(kMaxSecondsBytes >> 20) + " MiB cap; not stored",
                  path);
  }
  Result<int> opened = OpenRegular(path, O_WRONLY | O_CREAT, 0600);
  if (!opened.ok()) return opened.status();
  Fd fd(*opened);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return IoError("cannot stat", path, errno);
  if (static_cast<uint64_t>(st.st_size) < from.bytes) {
    return Damaged(path, "shorter (" + std::to_string(st.st_size) +
                             " bytes) than its state says (" +
                             std::to_string(from.bytes) + ")");
  }
  // Cut off what an unfinished Put left behind.
  if (static_cast<uint64_t>(st.st_size) > from.bytes &&
      ftruncate(fd.get(), static_cast<off_t>(from.bytes)) != 0) {
    return IoError("cannot truncate", path, errno);
  }
  LOADD_RETURN_IF_ERROR(WriteAll(fd.get(), bytes, static_cast<off_t>(from.bytes), path));
  if (fsync(fd.get()) != 0) return IoError("cannot fsync", path, errno);
  *to = Covered{from.bytes + bytes.size(), from.records + seconds.size()};
  return Status::Ok();
}

Status FileRunStore::Put(const std::string& id, std::string_view state,
                         size_t first_second, const std::vector<std::string>& seconds) {
  if (!ValidRunId(id)) return Status::Invalid("id", "invalid run id \"" + id + "\"");
  if (state.size() > kMaxStateBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "run " + id + ": state of " + std::to_string(state.size()) +
                      " bytes is over the " + std::to_string(kMaxStateBytes >> 20) +
                      " MiB cap; not stored");
  }
  MutexLock lock(&mu_);
  std::string run_dir = RunDir(id);
  Covered from;
  if (auto it = covered_.find(id); it != covered_.end()) {
    from = it->second;
  } else {
    Result<Covered> on_disk = CoveredOnDisk(id);
    if (!on_disk.ok()) return on_disk.status();
    from = *on_disk;
  }
  if (from.records != first_second) {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + id + ": " + std::to_string(from.records) +
                      " seconds stored, put starts at " + std::to_string(first_second));
  }
  if (mkdir(run_dir.c_str(), 0700) == 0) {
    LOADD_RETURN_IF_ERROR(FsyncDir(dir_ + "/runs"));
  } else if (errno != EEXIST) {
    return IoError("cannot create", run_dir, errno);
  }
  Covered to = from;
  if (!seconds.empty()) LOADD_RETURN_IF_ERROR(AppendSeconds(id, from, seconds, &to));

  std::string payload;
  payload.reserve(kCoveredBytes + state.size());
  PutU64(&payload, to.bytes);
  PutU64(&payload, to.records);
  payload.append(state);
  std::string record;
  AppendRecord(&record, payload);
  std::string tmp = run_dir + "/state.tmp", path = run_dir + "/state";
  {
    // Whatever lies at tmp (a FIFO, a link) is removed first, not opened.
    if (unlink(tmp.c_str()) != 0 && errno != ENOENT)
      return IoError("cannot remove", tmp, errno);
    Result<int> opened = OpenRegular(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (!opened.ok()) return opened.status();
    Fd fd(*opened);
    LOADD_RETURN_IF_ERROR(WriteAll(fd.get(), record, 0, tmp));
    if (fsync(fd.get()) != 0) return IoError("cannot fsync", tmp, errno);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) return IoError("cannot rename", tmp, errno);
  LOADD_RETURN_IF_ERROR(FsyncDir(run_dir));
  covered_[id] = to;
  return Status::Ok();
}

Result<StoredRun> FileRunStore::Get(const std::string& id) {
  if (!ValidRunId(id)) return Status(StatusCode::kNotFound, "no stored run " + id, "id");
  std::string state_path = RunDir(id) + "/state";
  Result<std::string> bytes = ReadPrefix(state_path, SIZE_MAX, kMaxStateBytes + 64);
  if (!bytes.ok()) return bytes.status();
  std::vector<std::string> records;
  LOADD_RETURN_IF_ERROR(ParseRecords(*bytes, state_path, &records));
  if (records.size() != 1 || records[0].size() < kCoveredBytes) {
    return Damaged(state_path, "not one state record");
  }
  Covered covered{GetLE(records[0], 8), GetLE(std::string_view(records[0]).substr(8), 8)};
  StoredRun run;
  run.state = records[0].substr(kCoveredBytes);
  if (covered.bytes == 0) return run;
  std::string seconds_path = RunDir(id) + "/seconds";
  if (covered.bytes > kMaxSecondsBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "covers " + std::to_string(covered.bytes) +
                      " bytes of seconds, over the " +
                      std::to_string(kMaxSecondsBytes >> 20) + " MiB cap; not loaded",
                  state_path);
  }
  Result<std::string> seconds = ReadPrefix(seconds_path, covered.bytes, kMaxSecondsBytes);
  if (!seconds.ok()) return seconds.status();
  if (seconds->size() != covered.bytes) {
    return Damaged(seconds_path, "shorter (" + std::to_string(seconds->size()) +
                                     " bytes) than its state says (" +
                                     std::to_string(covered.bytes) + ")");
  }
  LOADD_RETURN_IF_ERROR(ParseRecords(*seconds, seconds_path, &run.seconds));
  if (run.seconds.size() != covered.records) {
    return Damaged(seconds_path, "holds " + std::to_string(run.seconds.size()) +
                                     " records, its state says " +
                                     std::to_string(covered.records));
  }
  return run;
}

Result<std::vector<std::string>> FileRunStore::List() {
  MutexLock lock(&mu_);  // no Put half done while looking
  std::string runs = dir_ + "/runs";
  DIR* d = opendir(runs.c_str());
  if (d == nullptr) return IoError("cannot list", runs, errno);
  std::vector<std::string> ids;
  while (dirent* e = readdir(d)) {
    if (!ValidRunId(e->d_name)) continue;  // ".", "..", strays
    struct stat st;
    std::string path = runs + "/" + e->d_name;
    if (lstat(path.c_str(), &st) != 0) continue;  // gone meanwhile
    struct stat state_st;
    if (S_ISDIR(st.st_mode) && lstat((path + "/state").c_str(), &state_st) != 0 &&
        errno == ENOENT) {
      // Its first Put never renamed a state into place: seconds it may
      // hold are covered by no state, so nothing of the run was stored.
      Status removed = RemoveLocked(e->d_name);
      LOG_INFO("run store: %s has no state (its first write was cut short): %s",
               path.c_str(), removed.ok() ? "removed" : removed.ToString().c_str());
    } else if (S_ISDIR(st.st_mode)) {
      ids.push_back(e->d_name);
    } else {
      LOG_WARN(
          "skipping stored run %s: is %s, not a directory (a symbolic link is not "
          "followed)",
          path.c_str(), FileKind(st.st_mode));
    }
  }
  closedir(d);
  return ids;
}

Status FileRunStore::Remove(const std::string& id) {
  if (!ValidRunId(id)) return Status::Invalid("id", "invalid run id \"" + id + "\"");
  MutexLock lock(&mu_);
  return RemoveLocked(id);
}

Status FileRunStore::RemoveLocked(const std::string& id) {
  covered_.erase(id);
  std::string run_dir = RunDir(id);
  for (const char* name : {"/state", "/state.tmp", "/seconds"}) {
    std::string path = run_dir + name;
    if (unlink(path.c_str()) != 0 && errno != ENOENT)
      return IoError("cannot remove", path, errno);
  }
  if (rmdir(run_dir.c_str()) != 0 && errno != ENOENT) {
    return IoError("cannot remove", run_dir, errno);
  }
  return FsyncDir(dir_ + "/runs");
}

}  // namespace loadd
