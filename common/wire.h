// The fleet bus protocol between coordinator and workers (docs/wire-protocol.md).
//
// Every nng message is one JSON object whose "type" selects one of the
// structs below, except stats, which workers send in a binary form
// (wire_stats.h) because the coordinator reads one per worker a second.
// Decoding treats the bytes as hostile: any malformed message yields a
// Status naming the field, never a crash, and sizes are bounded.
#ifndef LOADD_COMMON_WIRE_H_
#define LOADD_COMMON_WIRE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/hdr_histogram.h"
#include "common/labels.h"
#include "common/plan.h"
#include "common/share.h"
#include "common/status.h"

namespace loadd {

constexpr int kWireVersion = 1;
constexpr size_t kMaxWireMessageBytes = 16 << 20;
// Histograms are ~184 KiB each in memory: bound what one message can ask for.
constexpr size_t kMaxEndpointsPerStats = 256;
constexpr size_t kMaxShareChanges = 4096;

// Why a request failed. A failed request is data, counted by kind.
enum class ErrorKind : int {
  kConnect = 0,  // could not connect (refused, unreachable, resolve failed)
  kTimeout,      // no complete response within the plan's timeout
  kStatus,       // complete response with status >= 400
  kIo,           // connection reset or closed mid-response, write failed
  kParse,        // the response was not valid HTTP/1.x
  kInterrupted,  // still in flight when the run was stopped
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
  std::string run_id;  // run still in progress on this worker, if any
  // --label (common/labels.h); empty from older workers. A default member
  // initializer, so the seven-field aggregate initializers stay warning-free.
  Labels labels = {};
};

// coordinator -> worker, answer to hello.
struct WelcomeMsg {
  std::string worker_id;
  // How often the worker sends heartbeats (the coordinator pings as often).
  int64_t heartbeat_ms = 1000;
  // The coordinator declares a worker silent this long lost and deals its
  // share out; a worker that hears nothing for this long stops its load
  // (or after its own --coordinator-grace, if shorter). 0: not given.
  int64_t heartbeat_timeout_ms = 0;
};

// worker -> coordinator every welcome.heartbeat_ms; coordinator -> worker as
// often (type "ping"), so each side detects a silent peer.
struct HeartbeatMsg {
  std::string run_id;
  int64_t users = 0;
  double cpu_percent = 0;
};
struct PingMsg {};

// coordinator -> worker: run your share of this plan.
struct AssignMsg {
  std::string run_id;
  Plan plan;
  std::vector<ShareChange> share;
  double handover_rate = 1;
  // The run's own time at receipt: -300 means it starts 300 ms from now;
  // positive when a worker joins a run already going.
  int64_t run_time_ms = 0;
  // The coordinator's --allow-host entries when it sent this (optional on
  // the wire, added in 0.x: older coordinators leave it out). The worker
  // connects only where this list allows (common/host_allow_list.h); empty
  // or absent, it applies the default list (loopback only).
  std::vector<std::string> allow_hosts;
};

// coordinator -> worker: the share changes mid-run.
struct ReshareMsg {
  std::string run_id;
  std::vector<ShareChange> changes;
  double handover_rate = 1;
};

// coordinator -> worker: the run's load profile changes (live scaling,
// PATCH /v1/runs/{id}). `knots` is the whole new profile
// (LoadProfile::Retarget of the one before); it equals the old one before
// run time at_ms, the instant the change begins on every worker alike, so
// the fleet-wide line is straight. A worker swaps it in at once: what it
// ran before at_ms does not change. Its end is the plan's.
struct ProfileMsg {
  std::string run_id;
  int64_t at_ms = 0;
  std::vector<LoadProfile::Knot> knots;
};
constexpr size_t kMaxProfileKnots = 1024;

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
  // This interval only. Open model: latency counts from each iteration's
  // intended start (coordinated omission corrected); service_us is the
  // uncorrected time from sending. Closed model: service_us stays empty.
  HdrHistogram latency_us = HdrHistogram::ForLatencyMicros();
  HdrHistogram service_us = HdrHistogram::ForLatencyMicros();
};

// How often one check of one step passed and failed in an interval. The name
// identifies the check fleet-wide ("login: status == 200").
struct CheckCount {
  std::string name;
  int64_t passed = 0;
  int64_t failed = 0;
};
constexpr size_t kMaxChecksPerStats = 1024;

// worker -> coordinator once per second during a run; deltas since the last.
struct StatsMsg {
  std::string run_id;
  int64_t seq = 0;
  int64_t users = 0;  // active users now (a gauge)
  double cpu_percent = 0;
  bool final = false;          // the worker's share of the run is over; no more stats
  int64_t dropped = 0;         // open model: arrivals skipped at max_in_flight
  int64_t interval_ms = 1000;  // the run time this message covers, ending now
  std::vector<EndpointStats> endpoints;
  std::vector<CheckCount> checks;  // only checks that ran in the interval
};

// worker -> coordinator, last message before a graceful exit (SIGTERM),
// after the final stats of any run it carried: remove me now, deal out my
// share without waiting for the heartbeat timeout.
struct GoodbyeMsg {
  std::string reason;  // for the log, at most 256 bytes ("signal 15")
};

using Message = std::variant<HelloMsg, WelcomeMsg, HeartbeatMsg, PingMsg, AssignMsg,
                             StopMsg, StatsMsg, ReshareMsg, GoodbyeMsg, ProfileMsg>;

const char* MessageTypeName(const Message& msg);
// Stats go out in their binary form (wire_stats.h), everything else as JSON.
std::string EncodeMessage(const Message& msg);
// Every message as JSON, stats too: the form workers before the binary
// stats sent, which DecodeMessage still reads (for tests and old workers).
std::string EncodeMessageAsJson(const Message& msg);
// Reads either form of stats, and JSON for everything else.
Result<Message> DecodeMessage(std::string_view bytes);

}  // namespace loadd

#endif  // LOADD_COMMON_WIRE_H_
