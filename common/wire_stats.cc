#include "common/wire_stats.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>

namespace loadd {
namespace {

// The bounds of the JSON form (wire.cc), so both forms accept the same
// messages.
constexpr uint64_t kMaxIUnsigned = uint64_t{1} << 50;
constexpr uint64_t kMaxBytesIn = uint64_t{1} << 62;
constexpr uint64_t kMaxCount = static_cast<uint64_t>(INT64_MAX);
// A histogram's counts array may not need more than this (as the JSON form).
constexpr size_t kMaxCountsBytes = 1 << 20;
constexpr uint8_t kFinalFlag = 1;
std::atomic<int64_t> refused_binary_stats{0};
constexpr uint64_t kLatencyLayout = 0;   // 1 us .. 1 h, 3 figures: no fields follow
constexpr uint64_t kExplicitLayout = 1;  // lowest, highest, figures follow

void PutVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

void PutBigEndian64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>(value >> shift));
}

bool IsLatencyLayout(const HdrHistogram& h) {
  return h.lowest_discernible() == 1 &&
         h.highest_trackable() == HdrHistogram::kLatencyHighestUs &&
         h.significant_figures() == 3;
}

void PutHistogram(std::string* out, const HdrHistogram& h) {
  if (IsLatencyLayout(h)) {
    PutVarint(out, kLatencyLayout);
  } else {
    PutVarint(out, kExplicitLayout);
    PutVarint(out, static_cast<uint64_t>(h.lowest_discernible()));
    PutVarint(out, static_cast<uint64_t>(h.highest_trackable()));
    PutVarint(out, static_cast<uint64_t>(h.significant_figures()));
  }
  uint64_t buckets = 0;
  h.ForEachIndex([&](int32_t, int64_t) { ++buckets; });
  PutVarint(out, buckets);
  int32_t next = 0;  // each index is written as its gap to the one before + 1
  h.ForEachIndex([&](int32_t index, int64_t count) {
    PutVarint(out, static_cast<uint64_t>(index - next));
    PutVarint(out, static_cast<uint64_t>(count));
    next = index + 1;
  });
}

// Structurally valid UTF-8 (no overlong forms, nothing past U+10FFFF).
// Surrogate code points pass, as they do in the JSON form (a lone "\udc00"
// escape decodes to one), so both forms accept the same names.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t cp = 0, min = 0;
    if ((c & 0xe0) == 0xc0) {
      extra = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff) return false;
    i += extra + 1;
  }
  return true;
}

// Where a field is, for errors: "$.run_id", "$.endpoints[2].latency_us".
// Built only when something is wrong.
struct Where {
  const char* list = nullptr;  // "endpoints" or "checks", or none
  size_t index = 0;
  const char* field = "";
  std::string Path() const {
    std::string path = "$";
    if (list != nullptr)
      path += std::string(".") + list + "[" + std::to_string(index) + "]";
    return *field == '\0' ? path : path + "." + field;
  }
};

// Reads the message front to back; every read checks the end first.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  size_t left() const { return bytes_.size() - pos_; }

  [[gnu::noinline]] Status Error(const Where& where, const std::string& what) const {
    return Status::Invalid(where.Path(), what + " (binary stats, byte " +
                                             std::to_string(pos_) + " of " +
                                             std::to_string(bytes_.size()) + ")");
  }

  size_t pos() const { return pos_; }
  void Seek(size_t pos) { pos_ = std::min(pos, bytes_.size()); }

  // Why TryVarint failed at pos_.
  [[gnu::noinline]] Status VarintError(const Where& where) const {
    size_t pos = pos_;
    for (int i = 0; i < 10; ++i) {
      if (pos == bytes_.size()) return Error(where, "message ends inside a number");
      if ((static_cast<uint8_t>(bytes_[pos++]) & 0x80) == 0) break;
    }
    return Error(where, "number is over 64 bits");
  }

  // The hot path (a histogram's buckets): false at the end of the message
  // or past 64 bits, with nothing consumed.
  bool TryVarint(uint64_t* out) {
    uint64_t value = 0;
    size_t pos = pos_;
    for (int shift = 0;; shift += 7) {
      if (pos == bytes_.size()) [[unlikely]]
        return false;
      const auto byte = static_cast<uint8_t>(bytes_[pos++]);
      if (shift == 63 && byte > 1) [[unlikely]]
        return false;
      value |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) break;
    }
    pos_ = pos;
    *out = value;
    return true;
  }

  Status Varint(const Where& where, uint64_t min, uint64_t max, uint64_t* out) {
    uint64_t value = 0;
    if (!TryVarint(&value)) [[unlikely]]
      return VarintError(where);
    if (value < min || value > max) [[unlikely]] {
      return Error(where, std::to_string(value) + " is outside " + std::to_string(min) +
                              ".." + std::to_string(max));
    }
    *out = value;
    return Status::Ok();
  }
  Status Int(const Where& where, uint64_t min, uint64_t max, int64_t* out) {
    uint64_t value = 0;
    LOADD_RETURN_IF_ERROR(Varint(where, min, max, &value));
    *out = static_cast<int64_t>(value);  // max <= INT64_MAX
    return Status::Ok();
  }
  Status String(const Where& where, size_t max, std::string* out) {
    uint64_t size = 0;
    LOADD_RETURN_IF_ERROR(Varint(where, 0, max, &size));
    if (size > left())
      return Error(where, "string of " + std::to_string(size) +
                              " bytes goes past the message's end");
    std::string_view s = bytes_.substr(pos_, size);
    if (!ValidUtf8(s)) return Error(where, "is not valid UTF-8");
    out->assign(s);
    pos_ += size;
    return Status::Ok();
  }
  Status Fixed64(const Where& where, uint64_t* out) {
    if (left() < 8) return Error(where, "message ends inside an 8-byte field");
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = value << 8 | static_cast<uint8_t>(bytes_[pos_++]);
    *out = value;
    return Status::Ok();
  }
  // A count of items that take at least min_bytes each: at most max, and
  // no more than the bytes left can hold (so what it reserves is bounded).
  Status Count(const Where& where, uint64_t max, size_t min_bytes, uint64_t* out) {
    LOADD_RETURN_IF_ERROR(Varint(where, 0, max, out));
    if (*out > left() / min_bytes) {
      return Error(where, std::to_string(*out) + " items of at least " +
                              std::to_string(min_bytes) + " bytes cannot fit in the " +
                              std::to_string(left()) + " bytes left");
    }
    return Status::Ok();
  }
  void Skip(size_t n) { pos_ += std::min(n, left()); }
  Status Byte(const Where& where, uint8_t* out) {
    if (left() < 1) return Error(where, "message ends early");
    *out = static_cast<uint8_t>(bytes_[pos_++]);
    return Status::Ok();
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

Status ReadLayout(Reader* r, const Where& where, HdrHistogram* out) {
  uint64_t kind = 0;
  LOADD_RETURN_IF_ERROR(r->Varint(where, 0, kExplicitLayout, &kind));
  if (kind == kLatencyLayout) {
    *out = HdrHistogram::ForLatencyMicros();
    return Status::Ok();
  }
  int64_t lowest = 0, highest = 0, figures = 0;
  LOADD_RETURN_IF_ERROR(r->Int(where, 1, kMaxCount, &lowest));
  LOADD_RETURN_IF_ERROR(r->Int(where, 2, kMaxCount, &highest));
  LOADD_RETURN_IF_ERROR(r->Int(where, 1, 5, &figures));
  Result<HdrHistogram> created =
      HdrHistogram::Create(lowest, highest, static_cast<int>(figures));
  if (!created.ok()) return r->Error(where, created.status().message());
  const size_t counts_bytes =
      static_cast<size_t>(created->counts_len()) * sizeof(int64_t);
  if (counts_bytes > kMaxCountsBytes) {
    return r->Error(where, "histogram needs " + std::to_string(counts_bytes) +
                               " bytes of counts, over the limit of " +
                               std::to_string(kMaxCountsBytes));
  }
  *out = std::move(*created);
  return Status::Ok();
}

// A histogram: its layout, the number of non-empty buckets, then for each
// the gap to the previous index (+1) and the count.
Status ReadHistogram(Reader* r, const Where& where, HdrHistogram* out) {
  LOADD_RETURN_IF_ERROR(ReadLayout(r, where, out));
  const auto counts_len = static_cast<uint64_t>(out->counts_len());
  uint64_t buckets = 0;
  // Each bucket takes at least 2 bytes (gap, count).
  LOADD_RETURN_IF_ERROR(r->Count(where, counts_len, 2, &buckets));
  std::vector<std::pair<int32_t, int64_t>> nonzero;
  nonzero.reserve(buckets);
  // When a number is wrong, the checked read says why (it always fails).
  auto recheck = [&](size_t at, uint64_t min, uint64_t max) {
    r->Seek(at);
    uint64_t value = 0;
    Status st = r->Varint(where, min, max, &value);
    return st.ok() ? r->Error(where, "bad bucket") : st;
  };
  uint64_t next = 0;
  for (uint64_t i = 0; i < buckets; ++i) {
    uint64_t gap = 0, count = 0;
    const size_t gap_at = r->pos();
    if (!r->TryVarint(&gap) || gap >= counts_len) [[unlikely]] {
      return recheck(gap_at, 0, counts_len - 1);
    }
    const size_t count_at = r->pos();
    if (!r->TryVarint(&count) || count == 0 || count > kMaxCount) [[unlikely]] {
      return recheck(count_at, 1, kMaxCount);
    }
    const uint64_t index = next + gap;
    if (index >= counts_len) [[unlikely]] {
      return r->Error(where, "bucket index " + std::to_string(index) + " is outside 0.." +
                                 std::to_string(counts_len - 1));
    }
    nonzero.emplace_back(static_cast<int32_t>(index), static_cast<int64_t>(count));
    next = index + 1;
  }
  Status st = out->SetSparseBuckets(std::move(nonzero));
  if (!st.ok()) return r->Error(where, st.message());
  return Status::Ok();
}

Status ReadEndpoint(Reader* r, size_t i, EndpointStats* e) {
  Where at{"endpoints", i, "name"};
  LOADD_RETURN_IF_ERROR(r->String(at, kMaxStatsEndpointNameBytes, &e->name));
  at.field = "requests";
  LOADD_RETURN_IF_ERROR(r->Int(at, 0, kMaxIUnsigned, &e->requests));
  at.field = "failures";
  LOADD_RETURN_IF_ERROR(r->Int(at, 0, kMaxIUnsigned, &e->failures));
  at.field = "bytes_in";
  LOADD_RETURN_IF_ERROR(r->Int(at, 0, kMaxBytesIn, &e->bytes_in));
  at.field = "errors";
  for (int64_t& n : e->errors) LOADD_RETURN_IF_ERROR(r->Int(at, 0, kMaxCount, &n));
  at.field = "latency_us";
  LOADD_RETURN_IF_ERROR(ReadHistogram(r, at, &e->latency_us));
  at.field = "service_us";
  return ReadHistogram(r, at, &e->service_us);
}

Status ReadChecks(Reader* r, std::vector<CheckCount>* out) {
  uint64_t n = 0;
  // A check takes at least 3 bytes (name length, passed, failed).
  LOADD_RETURN_IF_ERROR(r->Count(Where{nullptr, 0, "checks"}, kMaxChecksPerStats, 3, &n));
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    CheckCount& c = (*out)[i];
    LOADD_RETURN_IF_ERROR(
        r->String(Where{"checks", i, "name"}, kMaxStatsCheckNameBytes, &c.name));
    LOADD_RETURN_IF_ERROR(
        r->Int(Where{"checks", i, "passed"}, 0, kMaxIUnsigned, &c.passed));
    LOADD_RETURN_IF_ERROR(
        r->Int(Where{"checks", i, "failed"}, 0, kMaxIUnsigned, &c.failed));
  }
  return Status::Ok();
}

}  // namespace

// Layout (docs/wire-protocol.md): magic, version, flags, seq (8 bytes
// big-endian), then varints: users, dropped, interval_ms, cpu_percent (8
// bytes, IEEE 754 big-endian), run_id, endpoints, checks.
std::string EncodeBinaryStats(const StatsMsg& m) {
  std::string out;
  out.reserve(64 + m.run_id.size() + m.endpoints.size() * 600);
  out.append(kBinaryStatsMagic);
  out.push_back(kBinaryStatsVersion);
  out.push_back(static_cast<char>(m.final ? kFinalFlag : 0));
  PutBigEndian64(&out, static_cast<uint64_t>(m.seq));
  PutVarint(&out, static_cast<uint64_t>(m.users));
  PutVarint(&out, static_cast<uint64_t>(m.dropped));
  PutVarint(&out, static_cast<uint64_t>(m.interval_ms));
  PutBigEndian64(&out, std::bit_cast<uint64_t>(m.cpu_percent));
  PutString(&out, m.run_id);
  PutVarint(&out, m.endpoints.size());
  for (const EndpointStats& e : m.endpoints) {
    PutString(&out, e.name);
    PutVarint(&out, static_cast<uint64_t>(e.requests));
    PutVarint(&out, static_cast<uint64_t>(e.failures));
    PutVarint(&out, static_cast<uint64_t>(e.bytes_in));
    for (int64_t n : e.errors) PutVarint(&out, static_cast<uint64_t>(n));
    PutHistogram(&out, e.latency_us);
    PutHistogram(&out, e.service_us);
  }
  PutVarint(&out, m.checks.size());
  for (const CheckCount& c : m.checks) {
    PutString(&out, c.name);
    PutVarint(&out, static_cast<uint64_t>(c.passed));
    PutVarint(&out, static_cast<uint64_t>(c.failed));
  }
  return out;
}

namespace {

Result<StatsMsg> Decode(std::string_view bytes) {
  if (bytes.size() > kMaxWireMessageBytes) {
    return Status(StatusCode::kResourceExhausted, "bus message larger than 16 MiB");
  }
  Reader r(bytes);
  if (!IsBinaryStats(bytes)) return r.Error(Where{nullptr, 0, "magic"}, "is not LDST");
  r.Skip(kBinaryStatsMagic.size());
  StatsMsg m;
  uint8_t version = 0, flags = 0;
  LOADD_RETURN_IF_ERROR(r.Byte(Where{nullptr, 0, "version"}, &version));
  if (version != kBinaryStatsVersion) {
    return r.Error(Where{nullptr, 0, "version"},
                   "format version " + std::to_string(version) + " is not 1");
  }
  LOADD_RETURN_IF_ERROR(r.Byte(Where{nullptr, 0, "final"}, &flags));
  if ((flags & ~kFinalFlag) != 0) {
    return r.Error(Where{nullptr, 0, "final"}, "flags byte has unknown bits set");
  }
  m.final = (flags & kFinalFlag) != 0;
  uint64_t seq = 0;
  LOADD_RETURN_IF_ERROR(r.Fixed64(Where{nullptr, 0, "seq"}, &seq));
  if (seq > kMaxIUnsigned) {
    return r.Error(Where{nullptr, 0, "seq"}, std::to_string(seq) + " is outside 0.." +
                                                 std::to_string(kMaxIUnsigned));
  }
  m.seq = static_cast<int64_t>(seq);
  LOADD_RETURN_IF_ERROR(r.Int(Where{nullptr, 0, "users"}, 0, kMaxIUnsigned, &m.users));
  LOADD_RETURN_IF_ERROR(
      r.Int(Where{nullptr, 0, "dropped"}, 0, kMaxIUnsigned, &m.dropped));
  LOADD_RETURN_IF_ERROR(
      r.Int(Where{nullptr, 0, "interval_ms"}, 10, 60000, &m.interval_ms));
  uint64_t cpu_bits = 0;
  LOADD_RETURN_IF_ERROR(r.Fixed64(Where{nullptr, 0, "cpu_percent"}, &cpu_bits));
  m.cpu_percent = std::bit_cast<double>(cpu_bits);
  if (!std::isfinite(m.cpu_percent)) {
    return r.Error(Where{nullptr, 0, "cpu_percent"}, "is not a finite number");
  }
  LOADD_RETURN_IF_ERROR(
      r.String(Where{nullptr, 0, "run_id"}, kMaxWireMessageBytes, &m.run_id));
  uint64_t endpoints = 0;
  // An endpoint takes at least 14 bytes: a byte for the name's length and
  // each of 9 numbers, 2 for each histogram.
  LOADD_RETURN_IF_ERROR(
      r.Count(Where{nullptr, 0, "endpoints"}, kMaxEndpointsPerStats, 14, &endpoints));
  m.endpoints.resize(endpoints);
  for (size_t i = 0; i < endpoints; ++i) {
    LOADD_RETURN_IF_ERROR(ReadEndpoint(&r, i, &m.endpoints[i]));
  }
  LOADD_RETURN_IF_ERROR(ReadChecks(&r, &m.checks));
  if (r.left() != 0) {
    return r.Error(Where{},
                   std::to_string(r.left()) + " bytes follow the end of the message");
  }
  return m;
}

}  // namespace

Result<StatsMsg> DecodeBinaryStats(std::string_view bytes) {
  Result<StatsMsg> m = Decode(bytes);
  if (!m.ok()) refused_binary_stats.fetch_add(1, std::memory_order_relaxed);
  return m;
}

int64_t RefusedBinaryStats() {
  return refused_binary_stats.load(std::memory_order_relaxed);
}

}  // namespace loadd
