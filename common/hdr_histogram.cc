#include "common/hdr_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>

namespace loadd {

Result<HdrHistogram::Layout> HdrHistogram::ComputeLayout(int64_t lowest_discernible,
                                                         int64_t highest_trackable,
                                                         int significant_figures) {
  if (lowest_discernible < 1) {
    return Status::Invalid("", "lowest discernible value " +
                                   std::to_string(lowest_discernible) + " is below 1");
  }
  if (significant_figures < 1 || significant_figures > 5) {
    return Status::Invalid("", "significant figures " +
                                   std::to_string(significant_figures) +
                                   " is outside 1..5");
  }
  if (lowest_discernible > highest_trackable / 2) {
    return Status::Invalid("", "highest trackable value " +
                                   std::to_string(highest_trackable) +
                                   " is below twice the lowest discernible value " +
                                   std::to_string(lowest_discernible));
  }
  Layout layout{};
  layout.lowest_discernible = lowest_discernible;
  layout.highest_trackable = highest_trackable;
  layout.significant_figures = significant_figures;
  // The reference derives both magnitudes through floating-point logarithms;
  // doing the same keeps the layouts equal even where rounding matters.
  int64_t single_unit_resolution_limit = 2;
  for (int i = 0; i < significant_figures; ++i) single_unit_resolution_limit *= 10;
  const int sub_bucket_count_magnitude = static_cast<int>(std::ceil(
      std::log(static_cast<double>(single_unit_resolution_limit)) / std::log(2.0)));
  layout.sub_bucket_half_count_magnitude = std::max(sub_bucket_count_magnitude, 1) - 1;
  layout.unit_magnitude =
      static_cast<int>(std::log(static_cast<double>(lowest_discernible)) / std::log(2.0));
  if (layout.unit_magnitude + layout.sub_bucket_half_count_magnitude > 61) {
    return Status::Invalid(
        "", "lowest discernible value " + std::to_string(lowest_discernible) +
                " is too large for " + std::to_string(significant_figures) +
                " significant figures");
  }
  layout.sub_bucket_count = int32_t{1} << (layout.sub_bucket_half_count_magnitude + 1);
  layout.sub_bucket_mask = (int64_t{layout.sub_bucket_count} - 1)
                           << layout.unit_magnitude;
  // Buckets double in range; count them until one no longer fits under
  // highest_trackable, stopping before the shift overflows.
  int64_t smallest_untrackable = int64_t{layout.sub_bucket_count}
                                 << layout.unit_magnitude;
  layout.bucket_count = 1;
  while (smallest_untrackable <= highest_trackable) {
    if (smallest_untrackable > std::numeric_limits<int64_t>::max() / 2) {
      ++layout.bucket_count;
      break;
    }
    smallest_untrackable <<= 1;
    ++layout.bucket_count;
  }
  layout.counts_len = (layout.bucket_count + 1) * (layout.sub_bucket_count / 2);
  return layout;
}

HdrHistogram::HdrHistogram(const Layout& layout)
    : lowest_discernible_(layout.lowest_discernible),
      highest_trackable_(layout.highest_trackable),
      significant_figures_(layout.significant_figures),
      unit_magnitude_(layout.unit_magnitude),
      sub_bucket_half_count_magnitude_(layout.sub_bucket_half_count_magnitude),
      sub_bucket_half_count_(layout.sub_bucket_count / 2),
      sub_bucket_mask_(layout.sub_bucket_mask),
      counts_len_(layout.counts_len) {}

void HdrHistogram::MakeDense() {
  if (dense()) return;
  counts_.assign(static_cast<size_t>(counts_len_), 0);
  for (const auto& [index, count] : sparse_) counts_[index] = count;
  sparse_.clear();
  sparse_.shrink_to_fit();
}

Result<HdrHistogram> HdrHistogram::Create(int64_t lowest_discernible,
                                          int64_t highest_trackable,
                                          int significant_figures) {
  Result<Layout> layout =
      ComputeLayout(lowest_discernible, highest_trackable, significant_figures);
  if (!layout.ok()) return layout.status();
  return HdrHistogram(*layout);
}

HdrHistogram HdrHistogram::ForLatencyMicros() {
  // Computed once: the coordinator makes several per endpoint of every
  // stats message it decodes.
  static const Layout kLayout = *ComputeLayout(1, kLatencyHighestUs, 3);
  return HdrHistogram(kLayout);
}

int64_t HdrHistogram::ValueFromIndex(int32_t index) const {
  int bucket = (index >> sub_bucket_half_count_magnitude_) - 1;
  int32_t sub_bucket = (index & (sub_bucket_half_count_ - 1)) + sub_bucket_half_count_;
  if (bucket < 0) {  // the lower half of bucket 0
    sub_bucket -= sub_bucket_half_count_;
    bucket = 0;
  }
  return int64_t{sub_bucket} << (bucket + unit_magnitude_);
}

int64_t HdrHistogram::BucketSizeAtIndex(int32_t index) const {
  const int bucket = std::max((index >> sub_bucket_half_count_magnitude_) - 1, 0);
  return int64_t{1} << (bucket + unit_magnitude_);
}

int64_t HdrHistogram::HighestValueAtIndex(int32_t index) const {
  // Unsigned: the top bucket of a histogram reaching INT64_MAX ends at 2^63.
  const uint64_t next = static_cast<uint64_t>(ValueFromIndex(index)) +
                        static_cast<uint64_t>(BucketSizeAtIndex(index));
  return static_cast<int64_t>(next - 1);
}

int64_t HdrHistogram::LowestEquivalentValue(int64_t value) const {
  return ValueFromIndex(CountsIndex(std::max<int64_t>(value, 0)));
}

int64_t HdrHistogram::HighestEquivalentValue(int64_t value) const {
  return HighestValueAtIndex(CountsIndex(std::max<int64_t>(value, 0)));
}

void HdrHistogram::Merge(const HdrHistogram& other) {
  if (other.total_count_ == 0) {
    saturated_count_ += other.saturated_count_;
    return;
  }
  MakeDense();
  if (lowest_discernible_ == other.lowest_discernible_ &&
      highest_trackable_ == other.highest_trackable_ &&
      significant_figures_ == other.significant_figures_) {
    other.VisitNonZero([this](int32_t i, int64_t count) {
      counts_[i] += count;
      return true;
    });
    total_count_ += other.total_count_;
    min_value_ = std::min(min_value_, other.min_value_);
    max_value_ = std::max(max_value_, other.max_value_);
    saturated_count_ += other.saturated_count_;
    return;
  }
  const int64_t saturated_before = saturated_count_;
  other.VisitNonZero([this, &other](int32_t i, int64_t count) {
    RecordN(other.ValueFromIndex(i), count);
    return true;
  });
  // other's saturated values sit in its top bucket: either that bucket was
  // clamped here too (and is part of clamped) or nothing of other was.
  const int64_t clamped = saturated_count_ - saturated_before;
  saturated_count_ = saturated_before + std::max(clamped, other.saturated_count_);
}

Status HdrHistogram::SetSparseBuckets(
    std::vector<std::pair<int32_t, int64_t>>&& buckets) {
  if (dense() || total_count_ != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "SetSparseBuckets on a histogram that was recorded or merged into");
  }
  int32_t floor = 0;
  int64_t total = 0;
  for (const auto& [index, count] : buckets) {
    if (index < floor || index >= counts_len_) {
      return Status::Invalid("", "bucket index " + std::to_string(index) +
                                     " is outside " + std::to_string(floor) + ".." +
                                     std::to_string(counts_len_ - 1));
    }
    if (count <= 0) {
      return Status::Invalid(
          "", "bucket count " + std::to_string(count) + " is not positive");
    }
    if (__builtin_add_overflow(total, count, &total)) {
      return Status::Invalid("", "bucket counts add up past 2^63-1");
    }
    floor = index + 1;
  }
  sparse_ = std::move(buckets);
  RecomputeTotals();
  return Status::Ok();
}

void HdrHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  sparse_.clear();
  total_count_ = 0;
  min_value_ = std::numeric_limits<int64_t>::max();
  max_value_ = 0;
  saturated_count_ = 0;
}

int64_t HdrHistogram::Min() const {
  return total_count_ == 0 ? 0 : LowestEquivalentValue(min_value_);
}

int64_t HdrHistogram::Max() const {
  return max_value_ == 0 ? 0 : HighestEquivalentValue(max_value_);
}

double HdrHistogram::Mean() const {
  if (total_count_ == 0) return 0;
  double sum = 0;
  VisitNonZero([&](int32_t i, int64_t count) {
    const double median = static_cast<double>(ValueFromIndex(i)) +
                          static_cast<double>(BucketSizeAtIndex(i) / 2);
    sum += median * static_cast<double>(count);
    return true;
  });
  return sum / static_cast<double>(total_count_);
}

double HdrHistogram::StdDev() const {
  if (total_count_ == 0) return 0;
  const double mean = Mean();
  double sum_squares = 0;
  VisitNonZero([&](int32_t i, int64_t count) {
    const double deviation = static_cast<double>(ValueFromIndex(i)) +
                             static_cast<double>(BucketSizeAtIndex(i) / 2) - mean;
    sum_squares += deviation * deviation * static_cast<double>(count);
    return true;
  });
  return std::sqrt(sum_squares / static_cast<double>(total_count_));
}

int64_t HdrHistogram::ValueAtPercentile(double p) const {
  if (total_count_ == 0) return 0;
  if (!(p > 0)) p = 0;  // also NaN
  // As the reference: step one ulp down so that fp error in p * total cannot
  // push the rank past an exact integer, then round the rank up.
  const double requested =
      std::clamp(std::nextafter(p, -std::numeric_limits<double>::infinity()), 0.0, 100.0);
  const double fp_rank = requested * static_cast<double>(total_count_) / 100.0;
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(fp_rank)));
  int64_t seen = 0;
  int64_t value = 0;  // stays 0 only if total_count_ disagreed with the counts
  VisitNonZero([&](int32_t i, int64_t count) {
    seen += count;
    if (seen < rank) return true;
    value = p == 0 ? ValueFromIndex(i) : HighestValueAtIndex(i);
    return false;
  });
  return value;
}

void HdrHistogram::RecomputeTotals() {
  total_count_ = 0;
  min_value_ = std::numeric_limits<int64_t>::max();
  max_value_ = 0;
  auto add = [this](int32_t i, int64_t count) {
    total_count_ += count;
    min_value_ = std::min(min_value_, ValueFromIndex(i));
    max_value_ = HighestValueAtIndex(i);
  };
  if (!dense()) {
    // Indices increase and every count is positive: the extremes are the
    // first and the last bucket's.
    for (const auto& [index, count] : sparse_) total_count_ += count;
    if (!sparse_.empty()) {
      min_value_ = ValueFromIndex(sparse_.front().first);
      max_value_ = HighestValueAtIndex(sparse_.back().first);
    }
    return;
  }
  const auto len = static_cast<int32_t>(counts_.size());
  for (int32_t i = 0; i < len; ++i) {
    if (counts_[i] != 0) add(i, counts_[i]);
  }
}

}  // namespace loadd
