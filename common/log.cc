#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>

#include "common/mutex.h"

namespace loadd {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
Mutex g_tag_mu;
std::string g_tag GUARDED_BY(g_tag_mu) = "loadd";

}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

void SetLogTag(const std::string& tag) {
  MutexLock lock(&g_tag_mu);
  g_tag = tag;
}

void Logf(LogLevel level, const char* format, ...) {
  if (static_cast<int>(level) > g_level.load(std::memory_order_relaxed)) return;
  char line[2048];
  int n;
  {
    MutexLock lock(&g_tag_mu);
    n = std::snprintf(line, sizeof line, "<%d>%s: ", static_cast<int>(level),
                      g_tag.c_str());
  }
  va_list args;
  va_start(args, format);
  int m = std::vsnprintf(line + n, sizeof line - n - 1, format, args);
  va_end(args);
  size_t len =
      static_cast<size_t>(n) + (m < 0 ? 0 : std::min<size_t>(m, sizeof line - n - 2));
  line[len++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, len);
  (void)ignored;
}

}  // namespace loadd
