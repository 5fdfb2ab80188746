#include "common/units.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace loadd {
namespace {

// Reads a decimal number (digits, optional single '.'); advances pos.
bool ReadNumber(std::string_view text, size_t* pos, double* out) {
  size_t start = *pos;
  bool dot = false;
  while (*pos < text.size()) {
    char c = text[*pos];
    if (c >= '0' && c <= '9') {
      ++*pos;
    } else if (c == '.' && !dot) {
      dot = true;
      ++*pos;
    } else {
      break;
    }
  }
  if (*pos == start || text[start] == '.' || text[*pos - 1] == '.') return false;
  *out = std::strtod(std::string(text.substr(start, *pos - start)).c_str(), nullptr);
  return true;
}

constexpr int64_t kMaxDurationNs = int64_t{30} * 24 * 3600 * 1000000000;

}  // namespace

Result<int64_t> ParseDurationNs(std::string_view text) {
  if (text == "0") return int64_t{0};
  if (text.empty()) return Status::Invalid("", "empty duration");
  struct Unit {
    const char* name;
    double ns;
  };
  static constexpr Unit kUnits[] = {{"ns", 1},  {"us", 1e3}, {"ms", 1e6},
                                    {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  size_t pos = 0;
  double total_ns = 0;
  while (pos < text.size()) {
    double number;
    if (!ReadNumber(text, &pos, &number)) {
      return Status::Invalid(
          "", "\"" + std::string(text) +
                  "\" is not a duration (expected e.g. 250ms, 30s, 1m30s)");
    }
    size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos])))
      ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    const Unit* found = nullptr;
    for (const Unit& u : kUnits) {
      if (unit == u.name) found = &u;
    }
    if (found == nullptr) {
      return Status::Invalid("", "\"" + std::string(text) +
                                     "\" needs a unit: ns, us, ms, s, m or h (e.g. 30s)");
    }
    total_ns += number * found->ns;
  }
  if (total_ns > static_cast<double>(kMaxDurationNs)) {
    return Status::Invalid("", "\"" + std::string(text) + "\" is longer than 30 days");
  }
  return static_cast<int64_t>(std::llround(total_ns));
}

Result<int64_t> ParseCount(std::string_view text) {
  size_t pos = 0;
  double number;
  if (!ReadNumber(text, &pos, &number)) {
    return Status::Invalid(
        "", "\"" + std::string(text) + "\" is not a count (e.g. 100, 10k)");
  }
  std::string_view suffix = text.substr(pos);
  double scale = 1;
  if (suffix == "k" || suffix == "K") {
    scale = 1e3;
  } else if (suffix == "M") {
    scale = 1e6;
  } else if (suffix == "G") {
    scale = 1e9;
  } else if (!suffix.empty()) {
    return Status::Invalid("", "\"" + std::string(text) + "\": unknown suffix \"" +
                                   std::string(suffix) + "\" (use k, M or G)");
  }
  double value = number * scale;
  if (value > 9e15)
    return Status::Invalid("", "\"" + std::string(text) + "\" is too large");
  if (value != std::floor(value)) {
    return Status::Invalid("", "\"" + std::string(text) + "\" is not a whole number");
  }
  return static_cast<int64_t>(value);
}

Result<int64_t> ParseSizeBytes(std::string_view text) {
  size_t pos = 0;
  double number;
  if (!ReadNumber(text, &pos, &number)) {
    return Status::Invalid(
        "", "\"" + std::string(text) + "\" is not a size (e.g. 512k, 10MiB)");
  }
  std::string_view suffix = text.substr(pos);
  double scale;
  if (suffix.empty() || suffix == "B") {
    scale = 1;
  } else if (suffix == "k" || suffix == "K" || suffix == "KiB" || suffix == "kB") {
    scale = 1024;
  } else if (suffix == "M" || suffix == "MiB" || suffix == "MB") {
    scale = 1024.0 * 1024;
  } else if (suffix == "G" || suffix == "GiB" || suffix == "GB") {
    scale = 1024.0 * 1024 * 1024;
  } else {
    return Status::Invalid("", "\"" + std::string(text) + "\": unknown size unit \"" +
                                   std::string(suffix) +
                                   "\" (use k, M, G or KiB, MiB, GiB)");
  }
  double value = std::floor(number * scale);
  if (value > 9e15)
    return Status::Invalid("", "\"" + std::string(text) + "\" is too large");
  return static_cast<int64_t>(value);
}

std::string FormatDurationNs(int64_t ns) {
  char buf[32];
  if (ns % 1000000000 == 0) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(ns / 1000000000));
  } else if (ns % 1000000 == 0) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ns / 1000000));
  } else if (ns % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%lldus", static_cast<long long>(ns / 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
  }
  return buf;
}

std::string FormatMicros(double us) {
  char buf[32];
  if (us < 1000) {
    std::snprintf(buf, sizeof buf, "%.0fus", us);
  } else if (us < 1e6) {
    std::snprintf(buf, sizeof buf, "%.*fms", us < 1e4 ? 2 : 1, us / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", us / 1e6);
  }
  return buf;
}

}  // namespace loadd
