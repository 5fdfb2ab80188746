// Logging to stderr with journald priority prefixes ("<6>"), so journald
// keeps each line's level when the daemon runs under systemd. Thread-safe;
// one write(2) per line.
#ifndef LOADD_COMMON_LOG_H_
#define LOADD_COMMON_LOG_H_

#include <string>

namespace loadd {

enum class LogLevel { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

// Lines below this level are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
// A component tag printed on each line, e.g. "worker/3".
void SetLogTag(const std::string& tag);

void Logf(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace loadd

#define LOG_ERROR(...) ::loadd::Logf(::loadd::LogLevel::kError, __VA_ARGS__)
#define LOG_WARN(...) ::loadd::Logf(::loadd::LogLevel::kWarning, __VA_ARGS__)
#define LOG_INFO(...) ::loadd::Logf(::loadd::LogLevel::kInfo, __VA_ARGS__)
#define LOG_DEBUG(...) ::loadd::Logf(::loadd::LogLevel::kDebug, __VA_ARGS__)

#endif  // LOADD_COMMON_LOG_H_
