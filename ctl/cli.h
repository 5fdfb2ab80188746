// loadctl's command line: flags into Options, the command table into
// CLI11 subcommands, and the real world wired into an Env.
#ifndef LOADD_CTL_CLI_H_
#define LOADD_CTL_CLI_H_

#include <ostream>

#include "common/status.h"
#include "ctl/commands.h"
#include "ctl/env.h"

namespace loadd {

struct Invocation {
  const Command* command = nullptr;  // null when --help or --version was printed
  Options options;
};

// Parses argv. Help and version go to *out. A bad flag or argument is
// kInvalidArgument with CLI11's message.
Result<Invocation> ParseCommandLine(int argc, const char* const* argv, std::ostream* out);

// The whole program: parse, run the command against the real world, print
// any error to stderr, return the exit code (ExitCodeFor).
int LoadctlMain(int argc, const char* const* argv);

}  // namespace loadd

#endif  // LOADD_CTL_CLI_H_
