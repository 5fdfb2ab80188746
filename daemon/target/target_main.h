// Entry point of `loadd target`, dispatched to by the loadd binary.
#ifndef LOADD_DAEMON_TARGET_TARGET_MAIN_H_
#define LOADD_DAEMON_TARGET_TARGET_MAIN_H_

namespace loadd {

// argv[0] is "target". Prints "listening on HOST:PORT" on stdout once bound,
// serves until SIGTERM or SIGINT, then returns 0. Returns 2 for bad flags and
// 1 when the server cannot start.
int TargetMain(int argc, char** argv);

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_MAIN_H_
