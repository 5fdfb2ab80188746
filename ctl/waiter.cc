#include "ctl/waiter.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>

namespace loadd {
namespace {

volatile sig_atomic_t g_interrupted = 0;
volatile sig_atomic_t g_exit_fd = -1;
const char* volatile g_exit_bytes = nullptr;
volatile size_t g_exit_size = 0;

void OnSignal(int signo) {
  if (g_interrupted) {
    if (g_exit_fd >= 0 && g_exit_bytes != nullptr) {
      ssize_t ignored = write(g_exit_fd, g_exit_bytes, g_exit_size);
      (void)ignored;
    }
    signal(signo, SIG_DFL);
    raise(signo);
    return;
  }
  g_interrupted = 1;
}

}  // namespace

void SignalWaiter::Arm() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a sleeping poll wakes up at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void SignalWaiter::SleepNs(int64_t duration_ns) {
  if (duration_ns <= 0) return;
  // Only a signal that arrives during this sleep cuts it short: once the
  // first one has been handled, later sleeps must last (polls stay 1 s apart).
  // A signal landing between this read and nanosleep costs one full sleep.
  const sig_atomic_t seen = g_interrupted;
  timespec left = {static_cast<time_t>(duration_ns / 1000000000),
                   static_cast<long>(duration_ns % 1000000000)};
  while (g_interrupted == seen && nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

void SetBytesBeforeSignalExit(int fd, const char* bytes, size_t size) {
  g_exit_fd = -1;  // the handler ignores the pair while it changes
  g_exit_bytes = bytes;
  g_exit_size = size;
  g_exit_fd = fd;
}

bool SignalWaiter::Interrupted() const { return g_interrupted != 0; }

}  // namespace loadd
