// IntervalLog: a run's latency histograms per endpoint per second, kept
// encoded, and written as a standard HdrHistogram interval log (format
// version 1.3, as HdrHistogram's HistogramLogWriter writes it and the Java
// and JavaScript HistogramLogReader read it):
//
//   #[Histogram log format version 1.3]
//   #[StartTime: 1700000000.250 (seconds since epoch), Tue Nov 14 22:13:20 UTC 2023]
//   #[BaseTime: 1700000000.250 (seconds since epoch)]
//   "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//   Tag=GET_/x,0.000,1.000,20.479,HISTFAAAA...
//
// One line per endpoint per second: the tag is the endpoint name (see
// HlogTag), the timestamp is seconds since the run started (BaseTime), the
// max is in milliseconds (values are microseconds; max-value unit ratio
// 1000), and the histogram is the V2 compressed encoding in base64.
//
// Only encoded strings are stored (a decoded latency histogram is 184 KiB),
// and the total is bounded so the log always fits one REST reply. Not
// thread-safe; the Run that owns it is guarded by the Coordinator's lock.
#ifndef LOADD_DAEMON_COORDINATOR_HLOG_H_
#define LOADD_DAEMON_COORDINATOR_HLOG_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/hdr_histogram.h"

namespace loadd {

// The endpoint name as a log tag: readers split on spaces, commas and line
// breaks, so every comma, space or control byte becomes '_'
// ("GET /a, b" -> "GET_/a__b"); an empty name becomes "_".
std::string HlogTag(std::string_view name);

class IntervalLog {
 public:
  // Bound on the written log (the REST reply limit is 64 MiB).
  static constexpr size_t kMaxBytes = size_t{60} << 20;

  explicit IntervalLog(size_t max_bytes = kMaxBytes) : max_bytes_(max_bytes) {}

  // Records `latency_us`, the merge of every message for `endpoint` filed
  // under second `t` of the run. Empty histograms are skipped; past
  // max_bytes the interval is dropped and counted.
  void Add(int64_t t, const std::string& endpoint, const HdrHistogram& latency_us);

  // The whole log. start_epoch_s: the run's start in seconds since the Unix
  // epoch, written as StartTime and BaseTime.
  std::string Format(double start_epoch_s) const;

  size_t intervals() const { return entries_.size(); }
  int64_t dropped() const { return dropped_; }

  // For the run store: interval i (< intervals()) as it is kept, and the
  // way back. AddEncoded applies the same bound as Add; tag may be an
  // endpoint name or a tag (HlogTag(HlogTag(x)) == HlogTag(x)).
  struct Interval {
    int64_t t;
    const std::string& tag;
    int64_t max_us;
    const std::string& base64;
  };
  Interval Get(size_t i) const {
    const Entry& e = entries_[i];
    return Interval{e.t, tags_[e.tag], e.max_us, e.base64};
  }
  void AddEncoded(int64_t t, const std::string& tag, int64_t max_us, std::string base64);
  // Restores the count of dropped intervals; once any was dropped, nothing
  // more fits (as in Add).
  void RestoreDropped(int64_t dropped);

 private:
  struct Entry {
    int64_t t;
    uint32_t tag;  // index into tags_
    int64_t max_us;
    std::string base64;
  };
  uint32_t TagIndex(const std::string& endpoint);

  size_t max_bytes_;
  std::vector<std::string> tags_;
  std::map<std::string, uint32_t> tag_index_;
  std::vector<Entry> entries_;  // in the order added: by second, as seconds close
  size_t bytes_ = 0;            // the size of the written lines
  int64_t dropped_ = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_HLOG_H_
