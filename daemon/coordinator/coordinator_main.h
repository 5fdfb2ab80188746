#ifndef LOADD_DAEMON_COORDINATOR_COORDINATOR_MAIN_H_
#define LOADD_DAEMON_COORDINATOR_COORDINATOR_MAIN_H_

namespace loadd {
// `loadd coordinator [flags]`; argv[0] is "coordinator".
int CoordinatorMain(int argc, char** argv);
}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_COORDINATOR_MAIN_H_
