// The binary form of the worker -> coordinator stats message
// (docs/wire-protocol.md, "Binary stats").
//
// Every worker sends one stats message a second, so the coordinator of a
// 10,000-worker fleet decodes 10,000 a second. The JSON form carries each
// histogram as base64 of a zlib stream; this form carries the same
// information as varints, each histogram as its non-empty buckets (index
// gap, count), so decoding is one pass over the bytes and the decoded
// histograms are the same sparse HdrHistograms the JSON form decodes to:
// merges, percentiles and interval logs do not change.
//
// Decoding treats the bytes as hostile: every length, count and index is
// checked against the message's end and the bounds of wire.h before it is
// used, and anything malformed gives InvalidArgument naming the field and
// the byte offset. Never crashes, never allocates more than the message's
// own size calls for.
#ifndef LOADD_COMMON_WIRE_STATS_H_
#define LOADD_COMMON_WIRE_STATS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/wire.h"

namespace loadd {

// A binary stats message starts with these 4 bytes (no JSON message can),
// then a format version byte (1) and a flags byte (bit 0: final).
constexpr std::string_view kBinaryStatsMagic = "LDST";
constexpr char kBinaryStatsVersion = 1;
// seq is 8 bytes big-endian at this offset, so a sender may patch it.
constexpr size_t kBinaryStatsSeqOffset = 6;

// The longest names a stats message carries, in bytes (both forms: wire.cc
// checks the same figures). A longer name makes the whole message invalid,
// so what names stats rows and checks is bounded at its source: step names
// by plan validation (kMaxStepNameBytes), check names by scenario.cc.
constexpr size_t kMaxStatsEndpointNameBytes = 1024;
constexpr size_t kMaxStatsCheckNameBytes = 512;

inline bool IsBinaryStats(std::string_view bytes) {
  return bytes.substr(0, kBinaryStatsMagic.size()) == kBinaryStatsMagic;
}

std::string EncodeBinaryStats(const StatsMsg& stats);
Result<StatsMsg> DecodeBinaryStats(std::string_view bytes);

// How many binary stats messages DecodeBinaryStats refused in this process
// (thread-safe). A refused message loses a worker's second of counts, so
// the coordinator exports it (loadd_bus_stats_refused_total on /metrics).
int64_t RefusedBinaryStats();

}  // namespace loadd

#endif  // LOADD_COMMON_WIRE_STATS_H_
