#include "daemon/coordinator/hlog.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace loadd {
namespace {

// Max-value unit ratio: histogram values are microseconds, Interval_Max is
// written in milliseconds.
constexpr double kMaxValueUnitRatio = 1000.0;
constexpr size_t kLineOverheadBytes = 48;  // "Tag=", ',' x4, three numbers, '\n'

// Java's Date.toString() form ("Tue Nov 14 22:13:20 UTC 2023"), in UTC.
// Readers skip it; it is for people.
std::string DateText(double epoch_s) {
  std::time_t t = static_cast<std::time_t>(std::floor(epoch_s));
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}

}  // namespace

std::string HlogTag(std::string_view name) {
  if (name.empty()) return "_";
  std::string tag(name);
  for (char& c : tag) {
    if (c == ',' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) c = '_';
  }
  return tag;
}

uint32_t IntervalLog::TagIndex(const std::string& endpoint) {
  auto [it, inserted] =
      tag_index_.try_emplace(endpoint, static_cast<uint32_t>(tags_.size()));
  if (inserted) tags_.push_back(HlogTag(endpoint));
  return it->second;
}

void IntervalLog::Add(int64_t t, const std::string& endpoint,
                      const HdrHistogram& latency_us) {
  if (latency_us.TotalCount() == 0) return;
  if (bytes_ >= max_bytes_) {
    ++dropped_;
    return;
  }
  AddEncoded(t, endpoint, latency_us.Max(), latency_us.EncodeBase64());
}

void IntervalLog::AddEncoded(int64_t t, const std::string& tag, int64_t max_us,
                             std::string base64) {
  if (bytes_ >= max_bytes_) {
    ++dropped_;
    return;
  }
  uint32_t index = TagIndex(tag);
  size_t line_bytes = tags_[index].size() + base64.size() + kLineOverheadBytes;
  if (bytes_ + line_bytes > max_bytes_) {
    bytes_ = max_bytes_;  // nothing more fits
    ++dropped_;
    return;
  }
  bytes_ += line_bytes;
  entries_.push_back(Entry{t, index, max_us, std::move(base64)});
}

void IntervalLog::RestoreDropped(int64_t dropped) {
  dropped_ = dropped;
  if (dropped > 0) bytes_ = max_bytes_;
}

std::string IntervalLog::Format(double start_epoch_s) const {
  std::string out;
  out.reserve(bytes_ + 512);
  char buf[256];
  out += "#[Histogram log format version 1.3]\n";
  std::snprintf(buf, sizeof buf, "#[StartTime: %.3f (seconds since epoch), %s]\n",
                start_epoch_s, DateText(start_epoch_s).c_str());
  out += buf;
  std::snprintf(buf, sizeof buf, "#[BaseTime: %.3f (seconds since epoch)]\n",
                start_epoch_s);
  out += buf;
  if (dropped_ > 0) {
    std::snprintf(buf, sizeof buf,
                  "#loadd: %lld intervals left out: the log reached its size limit\n",
                  static_cast<long long>(dropped_));
    out += buf;
  }
  out +=
      "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
      "\"Interval_Compressed_Histogram\"\n";
  for (const Entry& e : entries_) {
    out += "Tag=";
    out += tags_[e.tag];
    std::snprintf(buf, sizeof buf, ",%.3f,%.3f,%.3f,", static_cast<double>(e.t), 1.0,
                  static_cast<double>(e.max_us) / kMaxValueUnitRatio);
    out += buf;
    out += e.base64;
    out += '\n';
  }
  return out;
}

}  // namespace loadd
