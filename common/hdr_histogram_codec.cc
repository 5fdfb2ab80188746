// HdrHistogram's V2 encoding (the interoperable "HISTFAAA..." form): the
// uncompressed and deflated byte layouts, base64, and decoding with every
// length and count checked, since encoded histograms arrive from the network
// and from files. The in-memory model is in hdr_histogram.cc.
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <string>

#include "common/base64.h"
#include "common/hdr_histogram.h"

namespace loadd {

// ---- V2 encoding -------------------------------------------------------------

namespace {

constexpr uint32_t kV2EncodingCookie = 0x1c849303;
constexpr uint32_t kV2CompressedCookie = 0x1c849304;
// Bits 4..7 of a cookie hold a word size; V2 writers set 0x10 (ZigZag LEB128
// counts) and V2 readers ignore the nibble.
constexpr uint32_t kWordSizeNibble = 0xf0;
constexpr uint32_t kV2WordSizeFlag = 0x10;
constexpr size_t kV2HeaderBytes = 40;
constexpr size_t kCompressedHeaderBytes = 8;
constexpr size_t kMaxLeb128Bytes = 9;

void PutBigEndian(std::string* out, uint64_t value, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(value >> shift));
  }
}

uint64_t GetBigEndian(std::string_view in, size_t pos, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = value << 8 | static_cast<uint8_t>(in[pos + i]);
  return value;
}

// ZigZag LEB128 as the reference writes it: 7 bits a byte, low bits first,
// and a 9th byte, if reached, carrying the last 8 bits whole.
void PutZigZag(std::string* out, int64_t signed_value) {
  uint64_t value = (static_cast<uint64_t>(signed_value) << 1) ^
                   static_cast<uint64_t>(signed_value >> 63);
  for (size_t i = 0; i + 1 < kMaxLeb128Bytes; ++i) {
    if (value >> 7 == 0) {
      out->push_back(static_cast<char>(value));
      return;
    }
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Reads one value at in[pos]; returns the bytes it took, 0 if in ends first.
size_t GetZigZag(std::string_view in, size_t pos, int64_t* signed_value) {
  uint64_t value = 0;
  size_t used = 0;
  while (true) {
    if (pos + used >= in.size()) return 0;
    const auto byte = static_cast<uint8_t>(in[pos + used]);
    if (used + 1 == kMaxLeb128Bytes) {
      value |= uint64_t{byte} << 56;
      ++used;
      break;
    }
    value |= uint64_t{byte & 0x7fu} << (7 * used);
    ++used;
    if ((byte & 0x80) == 0) break;
  }
  *signed_value = static_cast<int64_t>((value >> 1) ^ (~(value & 1) + 1));
  return used;
}

// Decodes into the non-zero buckets (index, count), in increasing index
// order, of a histogram of `counts_len` buckets.
Status DecodeZigZagCounts(std::string_view payload, size_t counts_len,
                          std::vector<std::pair<int32_t, int64_t>>* nonzero) {
  size_t pos = 0;
  size_t index = 0;
  int64_t total = 0;
  while (pos < payload.size()) {
    int64_t value = 0;
    const size_t used = GetZigZag(payload, pos, &value);
    if (used == 0) {
      return Status::Invalid("", "histogram counts end inside a value at payload byte " +
                                     std::to_string(pos));
    }
    if (value < 0) {  // a run of -value empty buckets
      if (value == std::numeric_limits<int64_t>::min() ||
          static_cast<uint64_t>(-value) > counts_len - index) {
        // 0 - (unsigned)value: -INT64_MIN does not fit in int64_t.
        return Status::Invalid(
            "", "a run of " + std::to_string(0 - static_cast<uint64_t>(value)) +
                    " empty buckets at payload byte " + std::to_string(pos) +
                    " goes past the " + std::to_string(counts_len) + " buckets");
      }
      index += static_cast<size_t>(-value);
    } else {
      if (index >= counts_len) {
        return Status::Invalid("", "histogram has more counts than its " +
                                       std::to_string(counts_len) + " buckets");
      }
      if (__builtin_add_overflow(total, value, &total)) {
        return Status::Invalid("", "histogram counts add up to more than 2^63-1");
      }
      if (value != 0) nonzero->emplace_back(static_cast<int32_t>(index), value);
      ++index;
    }
    pos += used;
  }
  return Status::Ok();
}

// Inflates one zlib stream (zlib wrapper, as the reference writes) with
// this thread's inflate state, reset for each: inflateInit and the first
// inflate allocate about 40 KiB, which cost more than inflating a delta.
class Inflater {
 public:
  explicit Inflater(std::string_view in) {
    State& state = ThreadState();
    ok_ = state.ok && inflateReset(&state.stream) == Z_OK;
    stream_ = &state.stream;
    stream_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    stream_->avail_in = static_cast<uInt>(in.size());
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates into out[0, size). With produced == nullptr exactly size bytes
  // must come; otherwise the stream must end within them and *produced says
  // how many came.
  Status Read(char* out, size_t size, const char* what, size_t* produced) {
    if (!ok_) return Status(StatusCode::kInternal, "zlib inflateInit failed");
    stream_->next_out = reinterpret_cast<Bytef*>(out);
    stream_->avail_out = static_cast<uInt>(size);
    const int rc = inflate(stream_, produced != nullptr ? Z_FINISH : Z_SYNC_FLUSH);
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
      return Status::Invalid("", std::string("corrupt zlib data in the ") + what + ": " +
                                     (stream_->msg ? stream_->msg : "inflate failed"));
    }
    if (rc == Z_MEM_ERROR) return Status(StatusCode::kInternal, "zlib out of memory");
    ended_ = rc == Z_STREAM_END;
    if (ended_ && stream_->avail_in != 0) {
      return Status::Invalid("", std::to_string(stream_->avail_in) +
                                     " bytes follow the end of the zlib stream");
    }
    const bool full = stream_->avail_out == 0;
    const std::string cut_off = std::string("zlib stream is cut off in the ") + what;
    if (produced == nullptr) {  // an exact read
      if (full) return Status::Ok();
      return Status::Invalid(
          "", ended_ ? std::string("inflated data ends inside the ") + what : cut_off);
    }
    if (!ended_) {  // Z_FINISH checks the trailer without needing output room
      return Status::Invalid("",
                             full && stream_->avail_in != 0
                                 ? std::string("inflated data goes on past the ") + what
                                 : cut_off);
    }
    *produced = size - stream_->avail_out;
    return Status::Ok();
  }
  bool ended() const { return ended_; }

 private:
  struct State {
    State() { ok = inflateInit(&stream) == Z_OK; }
    ~State() {
      if (ok) inflateEnd(&stream);
    }
    z_stream stream{};
    bool ok = false;
  };
  static State& ThreadState() {
    thread_local State state;
    return state;
  }

  z_stream* stream_ = nullptr;
  bool ok_ = false;
  bool ended_ = false;
};

}  // namespace

std::string HdrHistogram::EncodeUncompressed() const {
  std::string payload;
  // The counts up to the max's bucket, each run of empty buckets as its
  // negated length (the reference writes a lone zero as 0).
  int32_t next = 0;
  VisitNonZero([&](int32_t i, int64_t count) {
    const int64_t zeros = i - next;
    if (zeros > 0) PutZigZag(&payload, zeros > 1 ? -zeros : 0);
    PutZigZag(&payload, count);
    next = i + 1;
    return true;
  });
  if (total_count_ == 0) PutZigZag(&payload, 0);  // the empty bucket 0
  std::string out;
  out.reserve(kV2HeaderBytes + payload.size());
  PutBigEndian(&out, kV2EncodingCookie | kV2WordSizeFlag, 4);
  PutBigEndian(&out, payload.size(), 4);
  PutBigEndian(&out, 0, 4);  // normalizing index offset
  PutBigEndian(&out, static_cast<uint32_t>(significant_figures_), 4);
  PutBigEndian(&out, static_cast<uint64_t>(lowest_discernible_), 8);
  PutBigEndian(&out, static_cast<uint64_t>(highest_trackable_), 8);
  PutBigEndian(&out, std::bit_cast<uint64_t>(1.0), 8);  // integer-to-double ratio
  out += payload;
  return out;
}

std::string HdrHistogram::EncodeCompressed() const {
  const std::string plain = EncodeUncompressed();
  uLongf deflated_bytes = compressBound(plain.size());
  std::string deflated(deflated_bytes, '\0');
  // compress(): zlib wrapper, Z_DEFAULT_COMPRESSION, like java.util.zip.Deflater.
  const int rc = compress(reinterpret_cast<Bytef*>(deflated.data()), &deflated_bytes,
                          reinterpret_cast<const Bytef*>(plain.data()), plain.size());
  if (rc != Z_OK) return "";  // only on out-of-memory: compressBound is enough room
  std::string out;
  out.reserve(kCompressedHeaderBytes + deflated_bytes);
  PutBigEndian(&out, kV2CompressedCookie | kV2WordSizeFlag, 4);
  PutBigEndian(&out, deflated_bytes, 4);
  out.append(deflated, 0, deflated_bytes);
  return out;
}

std::string HdrHistogram::EncodeBase64() const {
  return Base64Encode(EncodeCompressed());
}

namespace {

std::string CookieHex(uint32_t cookie) {
  char hex[16];
  snprintf(hex, sizeof(hex), "0x%08x", cookie);
  return hex;
}

// Names the older encodings, which only Java and C still write.
std::string OlderVersionNote(uint32_t cookie) {
  switch (cookie & ~kWordSizeNibble) {
    case 0x1c849308:
    case 0x1c849309:
      return "; it is the V0 encoding, which is not supported";
    case 0x1c849301:
    case 0x1c849302:
      return "; it is the V1 encoding, which is not supported";
    default:
      return "";
  }
}

}  // namespace

// Bytes 8..11 (normalizing index offset) and 32..39 (conversion ratio) are
// ignored, as the Java and JS readers do for integer histograms.
Result<HdrHistogram> HdrHistogram::EmptyFromV2Header(std::string_view header,
                                                     size_t max_counts_bytes,
                                                     size_t* payload_bytes) {
  const auto cookie = static_cast<uint32_t>(GetBigEndian(header, 0, 4));
  if ((cookie & ~kWordSizeNibble) != kV2EncodingCookie) {
    return Status::Invalid("", "inflated cookie " + CookieHex(cookie) +
                                   " is not HdrHistogram V2 (0x1c849313)");
  }
  const auto claimed_payload = static_cast<int32_t>(GetBigEndian(header, 4, 4));
  Result<Layout> layout =
      ComputeLayout(static_cast<int64_t>(GetBigEndian(header, 16, 8)),
                    static_cast<int64_t>(GetBigEndian(header, 24, 8)),
                    static_cast<int32_t>(GetBigEndian(header, 12, 4)));
  if (!layout.ok()) return layout.status();
  const size_t counts_bytes = static_cast<size_t>(layout->counts_len) * sizeof(int64_t);
  if (counts_bytes > max_counts_bytes) {
    return Status(StatusCode::kResourceExhausted,
                  "histogram needs " + std::to_string(counts_bytes) +
                      " bytes of counts, over the limit of " +
                      std::to_string(max_counts_bytes));
  }
  const size_t payload_limit = std::min(
      max_counts_bytes, static_cast<size_t>(layout->counts_len) * kMaxLeb128Bytes);
  if (claimed_payload < 0 || static_cast<size_t>(claimed_payload) > payload_limit) {
    return Status::Invalid("", "payload length " + std::to_string(claimed_payload) +
                                   " is outside 0.." + std::to_string(payload_limit) +
                                   ", the most any encoding of this histogram takes");
  }
  *payload_bytes = static_cast<size_t>(claimed_payload);
  return HdrHistogram(*layout);
}

Status HdrHistogram::DecodeCounts(std::string_view payload) {
  counts_.clear();
  sparse_.clear();
  LOADD_RETURN_IF_ERROR(
      DecodeZigZagCounts(payload, static_cast<size_t>(counts_len_), &sparse_));
  RecomputeTotals();
  return Status::Ok();
}

Result<HdrHistogram> HdrHistogram::DecodeDeflated(std::string_view deflated,
                                                  size_t max_counts_bytes) {
  Inflater inflater(deflated);
  std::string header(kV2HeaderBytes, '\0');
  LOADD_RETURN_IF_ERROR(
      inflater.Read(header.data(), header.size(), "V2 header", nullptr));
  size_t payload_bytes = 0;
  Result<HdrHistogram> histogram =
      EmptyFromV2Header(header, max_counts_bytes, &payload_bytes);
  if (!histogram.ok()) return histogram.status();
  // The payload may be shorter than claimed: HdrHistogram_c once wrote the
  // header's length plus 40 there, and readers pad the rest with zeros, which
  // decode as empty buckets. Decoding only what came is the same.
  std::string payload(payload_bytes, '\0');
  size_t produced = 0;
  if (!inflater.ended()) {
    LOADD_RETURN_IF_ERROR(
        inflater.Read(payload.data(), payload.size(), "counts payload", &produced));
  }
  payload.resize(produced);
  LOADD_RETURN_IF_ERROR(histogram->DecodeCounts(payload));
  return histogram;
}

Result<HdrHistogram> HdrHistogram::DecodeCompressed(std::string_view bytes,
                                                    size_t max_counts_bytes) {
  if (bytes.size() < kCompressedHeaderBytes) {
    return Status::Invalid("", "encoded histogram is " + std::to_string(bytes.size()) +
                                   " bytes, too short for any header");
  }
  const auto cookie = static_cast<uint32_t>(GetBigEndian(bytes, 0, 4));
  if ((cookie & ~kWordSizeNibble) == kV2CompressedCookie) {
    const auto deflated_bytes = static_cast<int32_t>(GetBigEndian(bytes, 4, 4));
    const size_t available = bytes.size() - kCompressedHeaderBytes;
    if (deflated_bytes < 0 || static_cast<size_t>(deflated_bytes) != available) {
      return Status::Invalid("", "header claims " + std::to_string(deflated_bytes) +
                                     " compressed bytes but " +
                                     std::to_string(available) + " follow");
    }
    return DecodeDeflated(bytes.substr(kCompressedHeaderBytes), max_counts_bytes);
  }
  if ((cookie & ~kWordSizeNibble) != kV2EncodingCookie) {
    return Status::Invalid("",
                           "cookie " + CookieHex(cookie) + " is not an HdrHistogram V2 " +
                               "encoding (0x1c849314 compressed or 0x1c849313 plain)" +
                               OlderVersionNote(cookie));
  }
  if (bytes.size() < kV2HeaderBytes) {
    return Status::Invalid("", "encoded histogram is " + std::to_string(bytes.size()) +
                                   " bytes, shorter than the 40-byte V2 header");
  }
  size_t payload_bytes = 0;
  Result<HdrHistogram> histogram = EmptyFromV2Header(bytes.substr(0, kV2HeaderBytes),
                                                     max_counts_bytes, &payload_bytes);
  if (!histogram.ok()) return histogram.status();
  if (bytes.size() - kV2HeaderBytes != payload_bytes) {
    return Status::Invalid("", "header claims a payload of " +
                                   std::to_string(payload_bytes) + " bytes but " +
                                   std::to_string(bytes.size() - kV2HeaderBytes) +
                                   " follow");
  }
  LOADD_RETURN_IF_ERROR(histogram->DecodeCounts(bytes.substr(kV2HeaderBytes)));
  return histogram;
}

Result<HdrHistogram> HdrHistogram::DecodeBase64(std::string_view text,
                                                size_t max_counts_bytes) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return Status::Invalid("", "encoded histogram is empty");
  }
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  Result<std::string> bytes = Base64Decode(text);
  if (!bytes.ok()) return bytes.status();
  return DecodeCompressed(*bytes, max_counts_bytes);
}

}  // namespace loadd
