// loadctl: the command-line client of the coordinator's REST API.
// All logic lives in loadctl_lib (cli.h); docs/loadctl.md is the manual.
#include "ctl/cli.h"

int main(int argc, char** argv) { return loadd::LoadctlMain(argc, argv); }
