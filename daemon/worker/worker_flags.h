// Worker flags that are more than a plain value, kept apart from WorkerMain
// so tests can parse them with CLI11 as the daemon does.
#ifndef LOADD_DAEMON_WORKER_WORKER_FLAGS_H_
#define LOADD_DAEMON_WORKER_WORKER_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "common/labels.h"
#include "common/status.h"

namespace loadd {

// --label key=value, repeatable; config key `label` (a string, or a TOML
// array of strings for several). Flags replace the config file's labels as
// a whole, as for every other option. *args must outlive app's parsing.
void AddLabelFlag(CLI::App* app, std::vector<std::string>* args);

// The labels of --label (common/labels.h has the rules), or an error that
// names the flag, the config key and the argument at fault.
Result<Labels> WorkerLabels(const std::vector<std::string>& args);

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_WORKER_FLAGS_H_
