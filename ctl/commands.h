// loadctl's subcommands, as a table: adding a command is adding a row.
#ifndef LOADD_CTL_COMMANDS_H_
#define LOADD_CTL_COMMANDS_H_

#include <span>

#include "ctl/env.h"
#include "ctl/exit_code.h"

namespace CLI {
class App;
}  // namespace CLI

namespace loadd {

struct Command {
  const char* name;
  const char* help;
  // Declares the command's own flags and arguments, bound to *options.
  void (*define)(CLI::App* command, Options* options);
  Result<Outcome> (*run)(const Options& options, Env* env);
  // True when the command handles Ctrl-C itself (stops the run and reports);
  // for the others Ctrl-C ends loadctl at once.
  bool catches_interrupts;
};

// Every subcommand, in the order `loadctl --help` lists them.
std::span<const Command> Commands();

}  // namespace loadd

#endif  // LOADD_CTL_COMMANDS_H_
