// LocalFleet: a coordinator and one worker per online CPU, started on this
// machine for one `loadctl start --local` run and gone when it ends.
//
// The children listen on loopback only, on ports picked free at start. Each
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

 private:
  struct Child {
    pid_t pid;
    std::string name;      // "coordinator", "worker 3"
    std::string log_path;  // empty when stderr is inherited
  };

  LocalFleet() = default;
  Status MakeLogDir();
  Status Spawn(const std::vector<std::string>& argv, const std::string& name,
               bool inherit_stderr);
  Status WaitReady(int workers, const Waiter* waiter);
  // The first child that exited, as an error quoting its log; OK if none did.
  Status CheckChildren();
  void StopAll();

  std::string dir_;  // temporary directory of the children's logs
  std::string rest_url_;
  std::vector<Child> children_;
};

}  // namespace loadd

#endif  // LOADD_CTL_LOCAL_FLEET_H_
