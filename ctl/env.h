// Everything a loadctl command gets from outside: parsed options and the
// interfaces to the world (coordinator, files, time, output).
#ifndef LOADD_CTL_ENV_H_
#define LOADD_CTL_ENV_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "ctl/api_client.h"
#include "ctl/credentials.h"
#include "ctl/files.h"
#include "ctl/plan_source.h"
#include "ctl/waiter.h"

namespace loadd {

// The command line, parsed. Flags a command does not define stay default.
struct Options {
  std::string coordinator;      // --coordinator as typed; empty = env or default
  bool json = false;            // --json: print the coordinator's JSON verbatim
  bool verbose = false;         // --verbose: the local fleet logs to our stderr
  CredentialFlags credentials;  // --token-file, --cacert, --client-cert, --client-key
  PlanFlags plan;               // start: PLAN and the overriding flags; validate: PLAN
  bool detach = false;          // start --detach
  bool local = false;           // start --local
  bool no_color = false;    // start --no-color: plain progress lines on a terminal too
  std::string out_file;     // start --out: the final run JSON
  std::string junit_file;   // start --junit: JUnit XML of thresholds and checks
  std::string run_id;       // status, stop, scale, report: RUN
  std::string scale_users;  // scale --users N ("300", "10k")
  std::string scale_rate;   // scale --rate R (arrivals per second)
  std::string format;       // report --format; empty = table (json with --json)
  std::string output_file;  // report --output; empty = stdout
  std::string file_mode;    // start, report --mode: octal; empty = 0600 (files.h)
  std::vector<std::string> run_labels;  // runs --label KEY=VALUE, repeatable
  std::vector<std::string> run_states;  // runs --state STATE, repeatable
  // compare: run_id is BASE; CANDIDATE, --min-change (percent), --include-ramp,
  // --fail-on-worse; --format table, json or markdown.
  std::string candidate_id;
  std::optional<double> min_change_pct;
  bool include_ramp = false;
  bool fail_on_worse = false;
};

// Hands out the coordinator's client on first use, so commands that need no
// coordinator never contact one and `--local` starts its fleet only after
// the plan was found valid. The client lives as long as the Connector.
class Connector {
 public:
  virtual ~Connector() = default;
  virtual Result<ApiClient*> Connect() = 0;
};

// Not owned; all outlive the command.
struct Env {
  Connector* connector = nullptr;
  Files* files = nullptr;
  Waiter* waiter = nullptr;
  const Clock* clock = nullptr;
  std::ostream* out = nullptr;  // results: tables, reports, JSON
  std::ostream* err = nullptr;  // notices; progress lines when --json owns out
  bool out_is_tty = false;      // progress lines are rewritten in place
  bool err_is_tty = false;
  // The live view (ctl/live_view.h) needs a terminal, $TERM not "dumb" and
  // $NO_COLOR unset; nullptr reads as unset.
  const char* term = nullptr;      // $TERM
  const char* no_color = nullptr;  // $NO_COLOR
  // The terminal's size on a descriptor; nullptr: 80x24.
  void (*terminal_size)(int fd, int* columns, int* rows) = nullptr;
};

}  // namespace loadd

#endif  // LOADD_CTL_ENV_H_
