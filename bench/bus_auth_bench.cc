// What the fleet bus's frame authentication costs per message: HMAC-SHA256
// sealing (sender) and checking (receiver) of stats messages of typical
// sizes, next to encoding and decoding the same message as JSON.
//
//   bus_auth_bench [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "common/bus_auth.h"
#include "common/wire.h"

namespace {

using loadd::BusSession;

// One second of stats from a worker: `endpoints` endpoints, each with the
// latencies of `requests` requests.
std::string StatsOf(int endpoints, int requests) {
  std::mt19937 rng(42);
  std::lognormal_distribution<double> latency_us(8.0, 0.5);  // ~3 ms median
  loadd::StatsMsg stats;
  stats.run_id = "r1795400000-1";
  stats.seq = 17;
  stats.interval_ms = 1000;
  for (int e = 0; e < endpoints; ++e) {
    loadd::EndpointStats ep;
    ep.name = "GET /api/items/" + std::to_string(e);
    ep.requests = requests;
    for (int i = 0; i < requests; ++i)
      ep.latency_us.Record(static_cast<int64_t>(latency_us(rng)));
    stats.endpoints.push_back(std::move(ep));
  }
  return loadd::EncodeMessage(stats);
}

template <typename F>
double NsPer(int iterations, F&& f) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) f();
  auto ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
  return ns.count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  // A real handshake, so the session key is what the bus would use.
  const std::string key =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  auto server = loadd::ServerHandshake::Start(key);
  loadd::ClientHandshake client(key);
  std::unique_ptr<BusSession> worker_end, coordinator_end;
  auto proof =
      (*server)->Finish(*client.Answer((*server)->Challenge()), &coordinator_end);
  worker_end = std::move(*client.Verify(*proof));

  std::printf("%-34s %9s %12s %12s %12s %12s\n", "message", "bytes", "seal ns", "open ns",
              "json enc ns", "json dec ns");
  struct Shape {
    const char* name;
    int endpoints, requests;
  };
  const Shape shapes[] = {{"heartbeat-sized (no endpoints)", 0, 0},
                          {"stats: 1 endpoint, 1k requests", 1, 1000},
                          {"stats: 10 endpoints, 10k requests", 10, 10000},
                          {"stats: 100 endpoints, 1k requests", 100, 1000}};
  for (const Shape& s : shapes) {
    std::string payload = StatsOf(s.endpoints, s.requests);
    int n = payload.size() > 100'000 ? iterations / 20 : iterations;
    std::string frame;
    double seal = NsPer(n, [&] { frame = *worker_end->Seal(payload); });
    // Each Open needs a fresh sequence number: seal them first, untimed.
    std::vector<std::string> frames;
    frames.reserve(n);
    for (int i = 0; i < n; ++i) frames.push_back(*worker_end->Seal(payload));
    size_t next = 0;
    double open = NsPer(n, [&] {
      if (!coordinator_end->Open(frames[next++]).ok()) std::abort();
    });
    loadd::Result<loadd::Message> decoded = loadd::DecodeMessage(payload);
    double enc = NsPer(n / 10 + 1, [&] {
      frame = loadd::EncodeMessage(std::get<loadd::StatsMsg>(*decoded));
    });
    double dec = NsPer(n / 10 + 1, [&] {
      if (!loadd::DecodeMessage(payload).ok()) std::abort();
    });
    std::printf("%-34s %9zu %12.0f %12.0f %12.0f %12.0f\n", s.name, payload.size(), seal,
                open, enc, dec);
  }
  return 0;
}
