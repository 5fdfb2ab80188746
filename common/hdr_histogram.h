// HdrHistogram: a fixed-memory histogram of integer values (loadd records
// latencies in microseconds) with a bounded relative error, bucket-for-bucket
// compatible with the reference implementations (HdrHistogram Java,
// HdrHistogram_c, hdr-histogram-js): the same counts-array layout, the same
// percentile semantics and the same V2 compressed encoding, so logs written
// here are read there and the other way round.
//
// Not thread-safe: each load-generator thread owns one histogram and the
// results are merged at the end (Merge). Copyable and movable.
//
// Memory: a histogram allocates its counts array (184 KiB for latencies)
// only when something is recorded or merged into it. Until then, and when
// decoded, it keeps just its non-zero buckets, so decoding a one-second delta
// and merging it elsewhere (the coordinator, thousands of times a second)
// costs in proportion to the buckets used, not to the range.
#ifndef LOADD_COMMON_HDR_HISTOGRAM_H_
#define LOADD_COMMON_HDR_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loadd {

class HdrHistogram {
 public:
  // Tracks integer values in [lowest_discernible, highest_trackable] with
  // `significant_figures` (1..5) decimal digits of precision: two values are
  // told apart when they differ by more than 1 part in 10^significant_figures
  // (and by at least lowest_discernible). Fails with InvalidArgument when
  // lowest_discernible < 1, highest_trackable < 2 * lowest_discernible, or
  // significant_figures is outside 1..5.
  static Result<HdrHistogram> Create(int64_t lowest_discernible,
                                     int64_t highest_trackable, int significant_figures);
  // loadd's latency histogram: microseconds, 1 us .. 1 h, 3 digits (23552
  // counts, 184 KiB).
  static HdrHistogram ForLatencyMicros();
  static constexpr int64_t kLatencyHighestUs = 3'600'000'000;

  // Records value (count times). Values above highest_trackable are recorded at
  // highest_trackable (the count is never lost) and counted in saturated_count();
  // negative values are recorded as 0; a count <= 0 records nothing. Hot path:
  // no allocation but the first, O(1).
  void Record(int64_t value) { RecordN(value, 1); }
  inline void RecordN(int64_t value, int64_t count);
  // Adds every count of other. Ranges may differ: values beyond this
  // histogram's range are clamped as in Record. Like the reference, a bucket
  // of other is added at its lowest value when the layouts differ.
  void Merge(const HdrHistogram& other);
  // Forgets every value; the range stays.
  void Reset();

  int64_t TotalCount() const { return total_count_; }
  int64_t Min() const;  // lowest equivalent value of the min; 0 when empty
  int64_t Max() const;  // highest equivalent value of the max; 0 when empty
  // Mean and population standard deviation, each value taken at the middle of
  // its bucket as the reference does. 0 when empty.
  double Mean() const;
  double StdDev() const;
  // The value below which p percent of the values fall, p in [0,100] (clamped;
  // NaN counts as 0): the reference's getValueAtPercentile, i.e. the highest
  // equivalent value of the bucket holding the ceil(p/100 * TotalCount())-th
  // value (the lowest equivalent value for p == 0). 0 when empty.
  int64_t ValueAtPercentile(double p) const;
  // Values recorded above highest_trackable (and so recorded at it). Not part
  // of the encoding: a decoded histogram reports 0.
  int64_t saturated_count() const { return saturated_count_; }
  int64_t lowest_discernible() const { return lowest_discernible_; }
  int64_t highest_trackable() const { return highest_trackable_; }
  int significant_figures() const { return significant_figures_; }

  // The bucket holding value spans [LowestEquivalentValue(value),
  // HighestEquivalentValue(value)]; every value in it is recorded alike.
  // A negative value counts as 0.
  int64_t LowestEquivalentValue(int64_t value) const;
  int64_t HighestEquivalentValue(int64_t value) const;

  // Calls fn(value_upper_bound, count) for every non-empty bucket in increasing
  // order (value = highest equivalent value of the bucket). For Prometheus
  // buckets and reports.
  template <typename Fn>
  void ForEachBucket(Fn fn) const;

  // Bucket indices, for compact transports (the fleet bus's binary stats
  // message, common/wire_stats.cc): buckets are numbered 0..counts_len()-1
  // in increasing value, as in the V2 encoding's counts.
  int32_t counts_len() const { return counts_len_; }
  // Calls fn(index, count) for every non-empty bucket in increasing order.
  template <typename Fn>
  void ForEachIndex(Fn fn) const {
    VisitNonZero([&](int32_t i, int64_t count) {
      fn(i, count);
      return true;
    });
  }
  // Sets the counts of a histogram nothing was recorded or merged into from
  // its non-empty buckets (index, count), taking the vector's storage: the
  // sparse form DecodeCompressed leaves. Indices must increase and stay
  // below counts_len(), counts be positive and add up to less than 2^63;
  // otherwise InvalidArgument and nothing changes.
  Status SetSparseBuckets(std::vector<std::pair<int32_t, int64_t>>&& buckets);

  // V2 compressed encoding, byte-compatible with the reference's
  // encodeIntoCompressedByteBuffer: big-endian cookie 0x1c849314 and the
  // deflated length, then a zlib stream (default level) of the V2 form:
  // cookie 0x1c849313, payload bytes, normalizing offset 0, significant
  // figures, lowest, highest, conversion ratio 1.0 (double), and the counts up
  // to the max's bucket as ZigZag LEB128 (at most 9 bytes each) with runs of
  // zeros written as their negated length.
  std::string EncodeCompressed() const;
  // Decodes V2 compressed bytes, or the uncompressed V2 form. Untrusted input:
  // never crashes, never allocates more than max_counts_bytes for the counts
  // array nor inflates a payload larger than that; anything malformed gives an
  // InvalidArgument Status saying what is wrong (a counts array over the limit
  // gives ResourceExhausted). Like the Java and JS readers it ignores the
  // normalizing index offset and the conversion ratio, and a deflated payload
  // shorter than its header claims is read as far as it goes (older
  // HdrHistogram_c wrote the length 40 bytes too long).
  static Result<HdrHistogram> DecodeCompressed(std::string_view bytes,
                                               size_t max_counts_bytes = 64 << 20);
  // Base64 of EncodeCompressed, and the reverse (the form used in JSON and in
  // HdrHistogram interval logs). DecodeBase64 ignores surrounding whitespace.
  std::string EncodeBase64() const;
  static Result<HdrHistogram> DecodeBase64(std::string_view text,
                                           size_t max_counts_bytes = 64 << 20);

 private:
  // The layout derived from the three parameters, as the reference computes it.
  struct Layout {
    int64_t lowest_discernible;
    int64_t highest_trackable;
    int significant_figures;
    int unit_magnitude;                   // floor(log2(lowest_discernible))
    int sub_bucket_half_count_magnitude;  // log2(sub_bucket_count) - 1
    int32_t sub_bucket_count;             // power of two >= 2 * 10^figures
    int64_t sub_bucket_mask;              // (sub_bucket_count - 1) << unit_magnitude
    int32_t bucket_count;
    int32_t counts_len;
  };
  static Result<Layout> ComputeLayout(int64_t lowest_discernible,
                                      int64_t highest_trackable, int significant_figures);
  // An empty histogram in the sparse form (no counts array yet).
  explicit HdrHistogram(const Layout& layout);

  // The counts live in one of two forms. Dense: counts_ holds every bucket.
  // Sparse (counts_ empty): sparse_ holds the non-zero buckets in increasing
  // index order. MakeDense switches to the dense form for writing.
  bool dense() const { return !counts_.empty(); }
  void MakeDense();
  // Calls fn(index, count) for every non-zero bucket in increasing order
  // while fn returns true.
  template <typename Fn>
  void VisitNonZero(Fn fn) const;

  // Index into counts_ of value, which must be in [0, top of the last bucket].
  int32_t CountsIndex(int64_t value) const {
    const int bucket = 64 -
                       __builtin_clzll(static_cast<uint64_t>(value | sub_bucket_mask_)) -
                       unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
    const auto sub_bucket = static_cast<int32_t>(value >> (bucket + unit_magnitude_));
    return ((bucket + 1) << sub_bucket_half_count_magnitude_) + sub_bucket -
           sub_bucket_half_count_;
  }
  int64_t ValueFromIndex(int32_t index) const;       // lowest value of the bucket
  int64_t HighestValueAtIndex(int32_t index) const;  // highest value of the bucket
  int64_t BucketSizeAtIndex(int32_t index) const;
  // Sets total, min and max from counts_ (after decoding).
  void RecomputeTotals();
  std::string EncodeUncompressed() const;
  // Validates a 40-byte V2 header against max_counts_bytes; returns the empty
  // histogram it describes and sets *payload_bytes.
  static Result<HdrHistogram> EmptyFromV2Header(std::string_view header,
                                                size_t max_counts_bytes,
                                                size_t* payload_bytes);
  // Decodes the zlib stream of a V2 compressed encoding.
  static Result<HdrHistogram> DecodeDeflated(std::string_view deflated,
                                             size_t max_counts_bytes);
  // Fills the counts of an empty histogram from a ZigZag LEB128 payload.
  Status DecodeCounts(std::string_view payload);

  int64_t lowest_discernible_;
  int64_t highest_trackable_;
  int significant_figures_;
  int unit_magnitude_;
  int sub_bucket_half_count_magnitude_;
  int32_t sub_bucket_half_count_;
  int64_t sub_bucket_mask_;
  int32_t counts_len_;
  std::vector<int64_t> counts_;                      // dense form, or empty
  std::vector<std::pair<int32_t, int64_t>> sparse_;  // sparse form
  int64_t total_count_ = 0;
  // Raw extremes of what was recorded (after clamping); min_value_ is
  // INT64_MAX and max_value_ 0 while empty.
  int64_t min_value_ = std::numeric_limits<int64_t>::max();
  int64_t max_value_ = 0;
  int64_t saturated_count_ = 0;
};

// Branch-free on x86-64 with g++ -O2: the clamps compile to conditional moves.
inline void HdrHistogram::RecordN(int64_t value, int64_t count) {
  if (count <= 0) return;
  value = value < 0 ? 0 : value;
  const bool saturated = value > highest_trackable_;
  saturated_count_ += saturated ? count : 0;
  value = saturated ? highest_trackable_ : value;
  if (counts_.empty()) [[unlikely]]
    MakeDense();
  counts_[CountsIndex(value)] += count;
  total_count_ += count;
  min_value_ = value < min_value_ ? value : min_value_;
  max_value_ = value > max_value_ ? value : max_value_;
}

template <typename Fn>
void HdrHistogram::VisitNonZero(Fn fn) const {
  if (total_count_ == 0) return;
  if (!dense()) {
    for (const auto& [index, count] : sparse_) {
      if (!fn(index, count)) return;
    }
    return;
  }
  const int32_t end = CountsIndex(max_value_) + 1;
  for (int32_t i = 0; i < end; ++i) {
    if (counts_[i] != 0 && !fn(i, counts_[i])) return;
  }
}

template <typename Fn>
void HdrHistogram::ForEachBucket(Fn fn) const {
  VisitNonZero([&](int32_t i, int64_t count) {
    fn(HighestValueAtIndex(i), count);
    return true;
  });
}

}  // namespace loadd

#endif  // LOADD_COMMON_HDR_HISTOGRAM_H_
