// LocalFleet: a coordinator and one worker per online CPU, started on this
// machine for one `loadctl start --local` run and gone when it ends.
//
// The children listen on loopback only, on ports picked free at start, and
// share secrets made for this fleet alone: a REST token and a fleet key (64
// hex characters each, from the OpenSSL CSPRNG), in mode 0600 files in the
// fleet's private directory, named to the children by LOADD_TOKEN_FILE and
// LOADD_FLEET_KEY_FILE. The children read no system config file and keep
// their state in that directory, which goes away with the fleet. Each
// runs in its own process group (Ctrl-C reaches loadctl alone, which stops
// the run and then the fleet) and gets SIGTERM if loadctl dies
// (PR_SET_PDEATHSIG; loadctl must be single-threaded while the fleet lives,
// since the signal follows the thread that forked).
#ifndef LOADD_CTL_LOCAL_FLEET_H_
#define LOADD_CTL_LOCAL_FLEET_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "ctl/credentials.h"
#include "ctl/waiter.h"

namespace loadd {

struct LocalFleetOptions {
  std::string loadd_path;          // the loadd executable (FindLoadd)
  int workers = 1;                 // started as --cpu 0 .. workers-1
  bool inherit_stderr = false;     // true: children log to our stderr; else to files
  const Waiter* waiter = nullptr;  // an interrupt aborts the start-up; may be null
};

// The loadd executable: $LOADD_BIN when set, else `loadd` beside this
// executable (/proc/self/exe), else the first `loadd` on $PATH.
// kFailedPrecondition when none is executable.
Result<std::string> FindLoadd();

class LocalFleet {
 public:
  static constexpr int64_t kReadyTimeoutNs = 10 * kNsPerSec;
  static constexpr int64_t kStopGraceNs = 3 * kNsPerSec;

  // Starts the fleet and waits until GET /healthz reports every worker.
  // On failure nothing is left running and the message quotes the log of
  // the child that failed.
  static Result<std::unique_ptr<LocalFleet>> Start(const LocalFleetOptions& options);

  // SIGTERM to every child, SIGKILL after kStopGraceNs, reaps them and
  // removes the log directory.
  ~LocalFleet();
  LocalFleet(const LocalFleet&) = delete;
  LocalFleet& operator=(const LocalFleet&) = delete;

  // "http://127.0.0.1:PORT"
  const std::string& rest_url() const { return rest_url_; }
  // The fleet's REST token, for loadctl's own requests.
  Credentials credentials() const { return {token_, "the local fleet", "", "", ""}; }

 private:
  struct Child {
    pid_t pid;
    std::string name;      // "coordinator", "worker 3"
    std::string log_path;  // empty when stderr is inherited
  };

  LocalFleet() = default;
  Status MakeLogDir();
  // Writes the token and the fleet key, and the environment children get.
  Status MakeSecrets();
  Status Spawn(const std::vector<std::string>& argv, const std::string& name,
               bool inherit_stderr);
  Status WaitReady(int workers, const Waiter* waiter);
  // The first child that exited, as an error quoting its log; OK if none did.
  Status CheckChildren();
  void StopAll();

  std::string dir_;  // private (0700) directory: logs, secrets, state
  std::string rest_url_;
  std::string token_;
  std::vector<std::string> child_env_;  // environ with the secrets' files
  std::vector<Child> children_;
};

}  // namespace loadd

#endif  // LOADD_CTL_LOCAL_FLEET_H_
