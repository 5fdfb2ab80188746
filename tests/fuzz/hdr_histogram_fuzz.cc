// Fuzzes the HdrHistogram decoders that read stats messages and interval
// logs: the same bytes go to DecodeCompressed (binary V2, compressed or not)
// and to DecodeBase64. A histogram that decodes must re-encode to bytes that
// decode to the same total count and range.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/hdr_histogram.h"

namespace {

// Smaller than the 64 MiB default, so each input runs fast; the bound
// itself is what is exercised.
constexpr size_t kMaxCountsBytes = 4 << 20;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "hdr_histogram_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void CheckSame(const loadd::HdrHistogram& a, const loadd::Result<loadd::HdrHistogram>& b,
               const char* via) {
  if (!b.ok()) Fail(via, "re-encoding does not decode: " + b.status().ToString());
  if (b->TotalCount() != a.TotalCount() ||
      b->lowest_discernible() != a.lowest_discernible() ||
      b->highest_trackable() != a.highest_trackable() ||
      b->significant_figures() != a.significant_figures()) {
    Fail(via, "total count " + std::to_string(a.TotalCount()) + " became " +
                  std::to_string(b->TotalCount()));
  }
}

void RoundTrip(const loadd::HdrHistogram& histogram) {
  CheckSame(histogram,
            loadd::HdrHistogram::DecodeCompressed(histogram.EncodeCompressed(),
                                                  kMaxCountsBytes),
            "EncodeCompressed");
  CheckSame(histogram,
            loadd::HdrHistogram::DecodeBase64(histogram.EncodeBase64(), kMaxCountsBytes),
            "EncodeBase64");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  loadd::Result<loadd::HdrHistogram> binary =
      loadd::HdrHistogram::DecodeCompressed(bytes, kMaxCountsBytes);
  if (binary.ok()) RoundTrip(*binary);
  loadd::Result<loadd::HdrHistogram> text =
      loadd::HdrHistogram::DecodeBase64(bytes, kMaxCountsBytes);
  if (text.ok()) RoundTrip(*text);
  return 0;
}
