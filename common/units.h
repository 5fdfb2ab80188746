// Units people type: durations ("250ms", "1m30s"), counts ("10k") and sizes
// ("64KiB", "10k" = 10 * 1024 bytes). Parsers reject anything ambiguous and
// say why in the Status message; callers add the field path.
#ifndef LOADD_COMMON_UNITS_H_
#define LOADD_COMMON_UNITS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace loadd {

// One or more <number><unit> groups, unit one of ns us ms s m h; a bare "0"
// is accepted. Fractions are allowed ("1.5s"). Result in nanoseconds, at most
// 30 days.
Result<int64_t> ParseDurationNs(std::string_view text);

// A non-negative integer with an optional k (1e3), M (1e6) or G (1e9) suffix;
// "2.5k" is 2500. Fractions that do not give a whole number are rejected.
Result<int64_t> ParseCount(std::string_view text);

// Bytes: a number with an optional suffix k/K/KiB (1024), M/MiB, G/GiB, or B.
Result<int64_t> ParseSizeBytes(std::string_view text);

// "1.25s", "250ms", "17us": the largest unit that keeps three digits.
std::string FormatDurationNs(int64_t ns);

// Latency in microseconds as people read it: "812us", "20.3ms", "1.20s".
std::string FormatMicros(double us);

}  // namespace loadd

#endif  // LOADD_COMMON_UNITS_H_
