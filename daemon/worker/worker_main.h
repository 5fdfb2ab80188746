#ifndef LOADD_DAEMON_WORKER_WORKER_MAIN_H_
#define LOADD_DAEMON_WORKER_WORKER_MAIN_H_

namespace loadd {
// `loadd worker [flags]`; argv[0] is "worker".
int WorkerMain(int argc, char** argv);
}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_WORKER_MAIN_H_
