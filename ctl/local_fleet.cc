#include "ctl/local_fleet.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "common/bus_auth.h"
#include "ctl/api_client.h"
#include "ctl/curl_api_client.h"

extern char** environ;

namespace loadd {
namespace {

constexpr int64_t kReadyPollNs = 100 * kNsPerMs;
constexpr int64_t kReapPollNs = 20 * kNsPerMs;
constexpr size_t kLogTailLines = 8;
constexpr int kExecFailed = 127;

void SleepForNs(int64_t ns) {
  timespec ts = {static_cast<time_t>(ns / kNsPerSec), static_cast<long>(ns % kNsPerSec)};
  nanosleep(&ts, nullptr);  // a signal may cut it short; callers loop
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         access(path.c_str(), X_OK) == 0;
}

Status Errno(const std::string& doing) {
  return Status(StatusCode::kInternal, doing + ": " + std::strerror(errno));
}

// Binds `count` sockets to 127.0.0.1:0 at once (so the ports differ), reads
// the ports the kernel chose and closes them. Another process may take a
// port before our child binds it; the child then fails and says so.
Status FreeLoopbackPorts(size_t count, std::vector<int>* ports) {
  std::vector<int> fds;
  Status status;
  for (size_t i = 0; i < count && status.ok(); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = Errno("cannot pick a free loopback port");
    } else {
      ports->push_back(ntohs(addr.sin_port));
    }
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
  return status;
}

std::string LogTail(const std::string& path) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > kLogTailLines) lines.pop_front();
  }
  std::string tail;
  for (const std::string& line : lines) tail += "\n  " + line;
  return tail;
}

std::string DescribeExit(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(wait_status));
  }
  int code = WEXITSTATUS(wait_status);
  if (code == kExecFailed) return "could not be executed (exit status 127)";
  return "exited with status " + std::to_string(code);
}

// 64 hex characters from the OpenSSL CSPRNG.
Result<std::string> RandomSecret() {
  uint8_t bytes[32];
  LOADD_RETURN_IF_ERROR(RandomBytes(bytes, sizeof bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : bytes) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

// Creates `path` with mode 0600 (it must not exist) holding `content`.
Status WritePrivateFile(const std::string& path, const std::string& content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create " + path);
  bool ok =
      write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  int write_errno = errno;
  close(fd);
  errno = write_errno;
  return ok ? Status::Ok() : Errno("cannot write " + path);
}

// In the forked child: only async-signal-safe calls until execve.
[[noreturn]] void ExecChild(char* const* argv, char* const* envp, int log_fd,
                            pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(kExecFailed);  // loadctl died before prctl took effect
  setpgid(0, 0);  // out of the terminal's foreground group: Ctrl-C is loadctl's to handle
  dup2(log_fd >= 0 ? log_fd : STDERR_FILENO, STDOUT_FILENO);  // our stdout is for results
  if (log_fd >= 0) dup2(log_fd, STDERR_FILENO);
  execve(argv[0], argv, envp);
  static const char kMessage[] = "loadctl: cannot execute the loadd binary\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  _exit(kExecFailed);
}

}  // namespace

Result<std::string> FindLoadd() {
  const char* env = std::getenv("LOADD_BIN");
  if (env != nullptr && *env != '\0') {
    if (IsExecutableFile(env)) return std::string(env);
    return Status(StatusCode::kFailedPrecondition,
                  "LOADD_BIN=" + std::string(env) + " is not an executable file");
  }
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string beside =
        std::filesystem::path(std::string(self, n)).parent_path().string() + "/loadd";
    if (IsExecutableFile(beside)) return beside;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = std::min(dirs.find(':', start), dirs.size());
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/loadd";
    if (IsExecutableFile(candidate)) return candidate;
    start = end + 1;
  }
  return Status(StatusCode::kFailedPrecondition,
                "cannot find the loadd executable for --local: set LOADD_BIN, or install "
                "loadd beside loadctl or on PATH");
}

Result<std::unique_ptr<LocalFleet>> LocalFleet::Start(const LocalFleetOptions& options) {
  std::unique_ptr<LocalFleet> fleet(
      new LocalFleet());  // its destructor cleans up on error
  LOADD_RETURN_IF_ERROR(fleet->MakeLogDir());
  LOADD_RETURN_IF_ERROR(fleet->MakeSecrets());
  std::vector<int> ports;
  LOADD_RETURN_IF_ERROR(FreeLoopbackPorts(2, &ports));
  std::string bus = "tcp://127.0.0.1:" + std::to_string(ports[0]);
  std::string rest = "127.0.0.1:" + std::to_string(ports[1]);
  fleet->rest_url_ = "http://" + rest;
  const std::string& bin = options.loadd_path;
  // Defaults only: the machine's /etc/loadd/*.conf are for its own daemons.
  // The run store lives in the private directory and goes with it.
  const std::string config = fleet->dir_ + "/empty.conf";
  LOADD_RETURN_IF_ERROR(WritePrivateFile(config, "# loadctl --local: defaults only\n"));
  LOADD_RETURN_IF_ERROR(
      fleet->Spawn({bin, "coordinator", "--bus", bus, "--rest", rest, "--config", config,
                    "--state-dir", fleet->dir_ + "/state"},
                   "coordinator", options.inherit_stderr));
  for (int cpu = 0; cpu < options.workers; ++cpu) {
    std::string n = std::to_string(cpu);
    LOADD_RETURN_IF_ERROR(fleet->Spawn({bin, "worker", "--coordinator", bus, "--cpu", n,
                                        "--instance", n, "--config", config},
                                       "worker" + n, options.inherit_stderr));
  }
  LOADD_RETURN_IF_ERROR(fleet->WaitReady(options.workers, options.waiter));
  return Result<std::unique_ptr<LocalFleet>>(std::move(fleet));
}

LocalFleet::~LocalFleet() {
  StopAll();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

Status LocalFleet::MakeLogDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/loadctl-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return Errno("cannot create " + pattern);
  dir_ = pattern;
  return Status::Ok();
}

Status LocalFleet::MakeSecrets() {
  Result<std::string> token = RandomSecret();
  if (!token.ok()) return token.status();
  Result<std::string> key = RandomSecret();
  if (!key.ok()) return key.status();
  const std::string token_file = dir_ + "/token";
  const std::string key_file = dir_ + "/fleet.key";
  LOADD_RETURN_IF_ERROR(WritePrivateFile(token_file, *token + "\n"));
  LOADD_RETURN_IF_ERROR(WritePrivateFile(key_file, *key + "\n"));
  token_ = std::move(*token);
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry = *e;
    if (entry.starts_with("LOADD_TOKEN_FILE=") ||
        entry.starts_with("LOADD_FLEET_KEY_FILE=") || entry.starts_with("LOADD_TOKEN=")) {
      continue;
    }
    child_env_.emplace_back(entry);
  }
  child_env_.push_back("LOADD_TOKEN_FILE=" + token_file);
  child_env_.push_back("LOADD_FLEET_KEY_FILE=" + key_file);
  return Status::Ok();
}

Status LocalFleet::Spawn(const std::vector<std::string>& argv, const std::string& name,
                         bool inherit_stderr) {
  Child child{-1, name, ""};
  int log_fd = -1;
  if (!inherit_stderr) {
    child.log_path = dir_ + "/" + name + ".log";
    log_fd = open(child.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0) return Errno("cannot create " + child.log_path);
  }
  std::vector<char*> args;  // built before fork: the child must not allocate
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : child_env_)
    envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(args.data(), envp.data(), log_fd, parent);
  int fork_errno = errno;
  if (log_fd >= 0) close(log_fd);
  if (pid < 0) {
    errno = fork_errno;
    return Errno("cannot start the local " + name);
  }
  child.pid = pid;
  children_.push_back(std::move(child));
  return Status::Ok();
}

Status LocalFleet::CheckChildren() {
  for (Child& child : children_) {
    if (child.pid <= 0) continue;
    int wait_status = 0;
    if (waitpid(child.pid, &wait_status, WNOHANG) != child.pid) continue;
    child.pid = -1;
    std::string message = "local fleet: " + child.name + " " + DescribeExit(wait_status);
    if (!child.log_path.empty()) message += "; its log ends:" + LogTail(child.log_path);
    return Status(StatusCode::kUnavailable, message);
  }
  return Status::Ok();
}

Status LocalFleet::WaitReady(int workers, const Waiter* waiter) {
  CurlApiClient api(rest_url_, credentials());
  int64_t deadline_ns = MonotonicNowNs() + kReadyTimeoutNs;
  int64_t live = -1;
  std::string last_error = "no answer";
  for (;;) {
    LOADD_RETURN_IF_ERROR(CheckChildren());
    if (waiter != nullptr && waiter->Interrupted()) {
      return Status(StatusCode::kFailedPrecondition,
                    "interrupted while starting the local fleet");
    }
    JsonReply reply;
    Status health = GetJson(&api, "/healthz", &reply);
    if (health.ok()) {
      auto it = reply.doc.FindMember("workers");
      live =
          it != reply.doc.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : -1;
      if (live == workers) return Status::Ok();
    } else {
      last_error = health.message();
    }
    if (MonotonicNowNs() >= deadline_ns) break;
    SleepForNs(kReadyPollNs);
  }
  std::string why = live >= 0 ? "the coordinator sees " + std::to_string(live) + " of " +
                                    std::to_string(workers) + " workers"
                              : last_error;
  return Status(StatusCode::kUnavailable,
                "the local fleet was not ready within " +
                    std::to_string(kReadyTimeoutNs / kNsPerSec) + "s: " + why);
}

void LocalFleet::StopAll() {
  for (const Child& child : children_) {
    if (child.pid > 0) kill(child.pid, SIGTERM);
  }
  int64_t deadline_ns = MonotonicNowNs() + kStopGraceNs;
  for (;;) {
    bool alive = false;
    for (Child& child : children_) {
      if (child.pid <= 0) continue;
      pid_t reaped = waitpid(child.pid, nullptr, WNOHANG);
      if (reaped == child.pid || (reaped < 0 && errno == ECHILD)) child.pid = -1;
      alive = alive || child.pid > 0;
    }
    if (!alive || MonotonicNowNs() >= deadline_ns) break;
    SleepForNs(kReapPollNs);
  }
  for (Child& child : children_) {
    if (child.pid <= 0) continue;
    kill(child.pid, SIGKILL);
    while (waitpid(child.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    child.pid = -1;
  }
}

}  // namespace loadd
