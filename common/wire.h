// The fleet bus protocol between coordinator and workers (docs/wire-protocol.md).
//
// Every nng message is one JSON object whose "type" selects one of the
// structs below. Decoding treats the bytes as hostile: any malformed message
// yields a Status naming the field, never a crash, and sizes are bounded.
#ifndef LOADD_COMMON_WIRE_H_
#define LOADD_COMMON_WIRE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/hdr_histogram.h"
#include "common/plan.h"
#include "common/status.h"

namespace loadd {

constexpr int kWireVersion = 1;
constexpr size_t kMaxWireMessageBytes = 16 << 20;
constexpr size_t kMaxEndpointsPerStats = 4096;

// Why a request failed. A failed request is data, counted by kind.
enum class ErrorKind : int {
  kConnect = 0,   // could not connect (refused, unreachable, resolve failed)
  kTimeout,       // no complete response within the plan's timeout
  kStatus,        // complete response with status >= 400
  kIo,            // connection reset or closed mid-response, write failed
  kParse,         // the response was not valid HTTP/1.x
  kInterrupted,   // still in flight when the run was stopped
  kCount,
};
const char* ErrorKindName(ErrorKind kind);
using ErrorCounts = std::array<int64_t, static_cast<int>(ErrorKind::kCount)>;

// worker -> coordinator, first message on every (re)connection.
struct HelloMsg {
  std::string host;      // host identity (hostname, or --host-id)
  int64_t instance = 0;  // loadd@N instance
  int64_t cpu = -1;      // pinned CPU, -1 if not pinned
  int64_t cores = 1;     // online CPUs on the host
  int64_t pid = 0;
  std::string version;
  std::string run_id;    // run still in progress on this worker, if any
};

// coordinator -> worker, answer to hello.
struct WelcomeMsg {
  std::string worker_id;
  int64_t heartbeat_ms = 1000;
};

// worker -> coordinator every second; coordinator -> worker every second too
// (type "ping"), so each side detects a silent peer.
struct HeartbeatMsg {
  std::string run_id;
  int64_t users = 0;
  double cpu_percent = 0;
};
struct PingMsg {};

// coordinator -> worker: run your stripe of this plan.
struct AssignMsg {
  std::string run_id;
  Plan plan;
  int64_t stripe_index = 0;  // this worker's position in the striped order
  int64_t stripe_count = 1;  // workers in the run
  int64_t start_delay_ms = 0;  // start the run this long after receipt
};

// coordinator -> worker: end the run now.
struct StopMsg {
  std::string run_id;
};

struct EndpointStats {
  std::string name;
  int64_t requests = 0;  // completed, successful or not
  int64_t failures = 0;  // sum of errors
  ErrorCounts errors{};
  int64_t bytes_in = 0;
  HdrHistogram latency_us = HdrHistogram::ForLatencyMicros();  // this interval only
};

// worker -> coordinator once per second during a run; deltas since the last.
struct StatsMsg {
  std::string run_id;
  int64_t seq = 0;
  int64_t users = 0;  // active users now (a gauge)
  double cpu_percent = 0;
  bool final = false;  // the worker's share of the run is over; no more stats
  std::vector<EndpointStats> endpoints;
};

using Message =
    std::variant<HelloMsg, WelcomeMsg, HeartbeatMsg, PingMsg, AssignMsg, StopMsg, StatsMsg>;

const char* MessageTypeName(const Message& msg);
std::string EncodeMessage(const Message& msg);
Result<Message> DecodeMessage(std::string_view bytes);

}  // namespace loadd

#endif  // LOADD_COMMON_WIRE_H_
