// fleet_sim: N simulated workers on the fleet bus, for measuring the
// coordinator at scale (issue 7 part 5; driven by bench/fleet_sim.py).
//
// Each simulated worker is one nng dialer (one TCP connection, one pipe) of
// a single pair1 socket in polyamorous mode, so N workers cost one process,
// N file descriptors and nng's fixed thread pool rather than N BusClients
// with two threads each. On every pipe it speaks the real protocol with the
// real code: the fleet-key handshake (ClientHandshake), sealed frames
// (BusSession) and wire messages (EncodeMessage/DecodeMessage). It registers
// (hello: distinct host/instance), heartbeats every welcome.heartbeat_ms,
// accepts the run's assignment, and sends one stats message per second on
// the run's second boundaries (as real workers do, so they arrive in a burst)
// with --endpoints endpoints, each with a realistic latency HdrHistogram
// delta (log-normal, --requests-per-endpoint values), then final stats when
// the run ends or is stopped. No HTTP is sent to the plan's target.
//
// Stats bodies are encoded by the real encoder into a few templates per run
// (the seq field is patched per message), so the simulator's own CPU goes to
// framing and sending, not to encoding histograms. They are in the binary
// form real workers send (common/wire_stats.h); --json-stats sends the older
// JSON form (histograms as base64 of zlib) instead, to compare the two.
//
// Prints one JSON line of counters per second on stdout.
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/bus_auth.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/plan.h"
#include "common/wire.h"
#include "common/wire_stats.h"
#include "daemon/coordinator/run.h"

namespace loadd {
namespace {

constexpr int64_t kSeqMarker = 987654321987;  // patched per message
constexpr int kTemplates = 16;
constexpr size_t kMaxHandshaking = 32;  // the coordinator admits 64 at once

struct Options {
  std::string bus = "tcp://127.0.0.1:5557";
  std::string fleet_key_file;
  int workers = 100;
  int workers_per_host = 32;
  int endpoints = 20;
  int requests_per_endpoint = 200;  // per worker, endpoint and second
  int max_seconds = 600;
  bool json_stats = false;  // the JSON form instead of the binary one
  // Heartbeat every interval even while stats flow (workers before they
  // left out heartbeats after a stats message; daemon/worker/worker.cc).
  bool always_heartbeat = false;
};

struct SimWorker {
  int index = 0;
  nng_dialer dialer = NNG_DIALER_INITIALIZER;
  uint32_t pipe = 0;
  std::unique_ptr<ClientHandshake> handshake;
  std::unique_ptr<BusSession> session;
  bool welcomed = false;
  int64_t heartbeat_ns = kNsPerSec;
  int64_t next_heartbeat_ns = 0;
  std::string run_id;
  bool running = false;
  bool stop = false;
  int64_t next_stats_ns = 0;
  int64_t end_ns = 0;
  int64_t seq = 0;
  int64_t users = 0;
};

struct RunTemplates {
  std::vector<std::string> stats;  // encoded StatsMsg, seq kSeqMarker
  std::vector<int64_t> requests;   // requests each one reports
};

struct Counters {
  std::atomic<uint64_t> authenticated{0}, welcomed{0}, assigned{0}, stats_sent{0},
      finals_sent{0}, heartbeats_sent{0}, send_failures{0}, requests_sent{0},
      bad_frames{0}, disconnects{0}, received{0};
};

std::atomic<bool> g_stop{false};

class FleetSim {
 public:
  explicit FleetSim(Options o) : o_(std::move(o)) {}

  Status Start(std::string key) {
    key_ = std::move(key);
    if (int rv = nng_pair1_open_poly(&socket_); rv != 0) return NngError("open", rv);
    nng_socket_set_size(socket_, NNG_OPT_RECVMAXSZ,
                        kMaxWireMessageBytes + kBusFrameOverheadBytes);
    nng_socket_set_int(socket_, NNG_OPT_SENDBUF, 8192);
    nng_socket_set_int(socket_, NNG_OPT_RECVBUF, 8192);
    nng_socket_set_ms(socket_, NNG_OPT_RECONNMINT, 200);
    nng_socket_set_ms(socket_, NNG_OPT_RECONNMAXT, 2000);
    nng_pipe_notify(socket_, NNG_PIPE_EV_ADD_PRE, OnPipe, this);
    nng_pipe_notify(socket_, NNG_PIPE_EV_REM_POST, OnPipe, this);
    {
      MutexLock lock(&mu_);  // no other thread yet; for the analysis
      workers_.resize(o_.workers);
      for (int i = 0; i < o_.workers; ++i) workers_[i].index = i;
    }
    receiver_ = std::thread([this] { ReceiveLoop(); });
    return Status::Ok();
  }

  void Run() {
    int64_t start = MonotonicNowNs();
    int64_t next_report = start + kNsPerSec;
    while (!g_stop.load() && MonotonicNowNs() - start < o_.max_seconds * kNsPerSec) {
      DialMore();
      SendDue(MonotonicNowNs());
      int64_t now = MonotonicNowNs();
      if (now >= next_report) {
        Report((now - start) / kNsPerMs);
        next_report += kNsPerSec;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Report((MonotonicNowNs() - start) / kNsPerMs);
    nng_close(socket_);
    if (receiver_.joinable()) receiver_.join();
  }

 private:
  static Status NngError(const std::string& what, int rv) {
    return Status(StatusCode::kUnavailable, what + ": " + nng_strerror(rv));
  }

  static void OnPipe(nng_pipe pipe, nng_pipe_ev ev, void* self) {
    auto* sim = static_cast<FleetSim*>(self);
    MutexLock lock(&sim->mu_);
    auto it = sim->by_dialer_.find(nng_dialer_id(nng_pipe_dialer(pipe)));
    if (it == sim->by_dialer_.end()) return;
    SimWorker& w = sim->workers_[it->second];
    if (ev == NNG_PIPE_EV_ADD_PRE) {
      w.pipe = static_cast<uint32_t>(nng_pipe_id(pipe));
      w.handshake = std::make_unique<ClientHandshake>(sim->key_);
      w.session.reset();
      w.welcomed = false;
    } else if (ev == NNG_PIPE_EV_REM_POST &&
               w.pipe == static_cast<uint32_t>(nng_pipe_id(pipe))) {
      if (w.session) ++sim->counters_.disconnects;
      if (w.session) --sim->authenticated_now_;
      w.pipe = 0;
      w.handshake.reset();
      w.session.reset();
      w.welcomed = false;
      w.running = false;
    }
  }

  // Starts dialers while fewer than kMaxHandshaking are unauthenticated.
  void DialMore() {
    MutexLock lock(&mu_);
    while (dialed_ < o_.workers &&
           static_cast<size_t>(dialed_ - authenticated_now_) < kMaxHandshaking) {
      SimWorker& w = workers_[dialed_];
      if (nng_dialer_create(&w.dialer, socket_, o_.bus.c_str()) != 0) return;
      by_dialer_[nng_dialer_id(w.dialer)] = w.index;
      nng_dialer_start(w.dialer, NNG_FLAG_NONBLOCK);
      ++dialed_;
    }
  }

  void ReceiveLoop() {
    while (true) {
      nng_msg* msg = nullptr;
      int rv = nng_recvmsg(socket_, &msg, 0);
      if (rv == NNG_ECLOSED) return;
      if (rv != 0) continue;
      ++counters_.received;
      {
        MutexLock lock(&mu_);
        uint32_t pipe = nng_pipe_id(nng_msg_get_pipe(msg));
        auto it = by_dialer_.find(nng_dialer_id(nng_pipe_dialer(nng_msg_get_pipe(msg))));
        if (it != by_dialer_.end() && workers_[it->second].pipe == pipe) {
          Handle(&workers_[it->second],
                 std::string_view(static_cast<const char*>(nng_msg_body(msg)),
                                  nng_msg_len(msg)));
        }
      }
      nng_msg_free(msg);
    }
  }

  void Handle(SimWorker* w, std::string_view bytes) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (w->session == nullptr) {
      if (w->handshake == nullptr) return;
      if (!w->handshake->answered()) {
        Result<std::string> response = w->handshake->Answer(bytes);
        if (response.ok()) SendRaw(w->pipe, *response);
        return;
      }
      Result<std::unique_ptr<BusSession>> session = w->handshake->Verify(bytes);
      if (!session.ok()) return;
      w->session = std::move(*session);
      w->handshake.reset();
      ++authenticated_now_;
      ++counters_.authenticated;
      int host = w->index / o_.workers_per_host,
          instance = w->index % o_.workers_per_host;
      char name[32];
      std::snprintf(name, sizeof name, "sim-h%05d", host);
      Send(w, EncodeMessage(HelloMsg{name, instance, instance, o_.workers_per_host,
                                     getpid(), "fleet-sim", ""}));
      return;
    }
    Result<std::string_view> payload = w->session->Open(bytes);
    if (!payload.ok()) {
      ++counters_.bad_frames;
      return;
    }
    Result<Message> msg = DecodeMessage(*payload);
    if (!msg.ok()) return;
    int64_t now = MonotonicNowNs();
    if (auto* welcome = std::get_if<WelcomeMsg>(&*msg)) {
      if (!w->welcomed) ++counters_.welcomed;
      w->welcomed = true;
      w->heartbeat_ns = std::max<int64_t>(100, welcome->heartbeat_ms) * kNsPerMs;
      // Spread heartbeats over the interval, as independent workers do.
      w->next_heartbeat_ns = now + w->heartbeat_ns * w->index / o_.workers;
    } else if (auto* assign = std::get_if<AssignMsg>(&*msg)) {
      ++counters_.assigned;
      int64_t start = now - assign->run_time_ms * kNsPerMs;
      w->run_id = assign->run_id;
      w->running = true;
      w->stop = false;
      w->seq = 0;
      w->next_stats_ns = start + kNsPerSec;
      w->end_ns = start + assign->plan.duration_ns;
      w->users = 0;
      for (const ShareChange& c : assign->share) {
        w->users += CountInClass(assign->plan.users, c.modulus, c.residue);
      }
      EnsureTemplates(assign->run_id, w->users);
    } else if (auto* stop = std::get_if<StopMsg>(&*msg)) {
      if (stop->run_id == w->run_id) w->stop = true;
    }
  }

  // Public again for DecodeBench.
 public:
  std::vector<std::string> TemplatesForBench() {
    MutexLock lock(&mu_);
    EnsureTemplates("bench", 10);
    return templates_["bench"].stats;
  }

 private:
  // Real encodings of realistic deltas: log-normal latencies
  // around a per-endpoint median (2..40 ms), a few errors.
  void EnsureTemplates(const std::string& run_id, int64_t users)
      EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (templates_.count(run_id) != 0) return;
    RunTemplates& t = templates_[run_id];
    std::mt19937_64 rng(42);
    for (int k = 0; k < kTemplates; ++k) {
      StatsMsg stats;
      stats.run_id = run_id;
      stats.seq = kSeqMarker;
      stats.users = users;
      stats.cpu_percent = 35.5;
      int64_t requests = 0;
      for (int e = 0; e < o_.endpoints; ++e) {
        EndpointStats es;
        char name[32];
        std::snprintf(name, sizeof name, "GET /api/item-%02d", e);
        es.name = name;
        std::lognormal_distribution<double> latency(std::log(2000.0 + 2000.0 * (e % 20)),
                                                    0.6);
        int n = o_.requests_per_endpoint;
        for (int i = 0; i < n; ++i)
          es.latency_us.Record(static_cast<int64_t>(latency(rng)));
        es.requests = n;
        es.failures = (rng() % 100 == 0) ? 1 : 0;
        es.errors[static_cast<int>(ErrorKind::kStatus)] = es.failures;
        es.bytes_in = n * 1200;
        requests += n;
        stats.endpoints.push_back(std::move(es));
      }
      t.stats.push_back(o_.json_stats ? EncodeMessageAsJson(stats)
                                      : EncodeMessage(stats));
      t.requests.push_back(requests);
    }
  }

  void SendDue(int64_t now) {
    for (int begin = 0; begin < o_.workers; begin += 256) {
      MutexLock lock(&mu_);
      for (int i = begin; i < std::min(o_.workers, begin + 256); ++i) {
        SimWorker& w = workers_[i];
        if (!w.welcomed) continue;
        if (w.running && (w.stop || now >= w.end_ns)) {
          StatsMsg final;
          final.run_id = w.run_id;
          final.seq = w.seq++;
          final.final = true;
          Send(&w, EncodeMessage(final));
          ++counters_.finals_sent;
          w.running = false;
        } else if (w.running && now >= w.next_stats_ns) {
          SendStats(&w, now);
          w.next_stats_ns += kNsPerSec;
        }
        // After the stats: one sent now puts the heartbeat off.
        if (now >= w.next_heartbeat_ns) {
          Send(&w, EncodeMessage(HeartbeatMsg{w.running ? w.run_id : "",
                                              w.running ? w.users : 0, 35.5}));
          ++counters_.heartbeats_sent;
          w.next_heartbeat_ns += w.heartbeat_ns;
          if (w.next_heartbeat_ns < now) w.next_heartbeat_ns = now + w.heartbeat_ns;
        }
      }
    }
  }

  void SendStats(SimWorker* w, int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const RunTemplates& t = templates_[w->run_id];
    size_t k = static_cast<size_t>(w->index + w->seq) % t.stats.size();
    std::string body = t.stats[k];
    if (IsBinaryStats(body)) {
      for (int i = 0; i < 8; ++i) {
        body[kBinaryStatsSeqOffset + i] = static_cast<char>(w->seq >> (56 - 8 * i));
      }
    } else {
      std::string marker = std::to_string(kSeqMarker);
      size_t at = body.find(marker);
      if (at != std::string::npos)
        body.replace(at, marker.size(), std::to_string(w->seq));
    }
    ++w->seq;
    if (Send(w, body)) {
      ++counters_.stats_sent;
      counters_.requests_sent += t.requests[k];
      // As a worker does: the next heartbeat only after an interval with
      // nothing sent.
      if (!o_.always_heartbeat) {
        w->next_heartbeat_ns = std::max(w->next_heartbeat_ns, now + w->heartbeat_ns);
      }
    }
  }

  bool Send(SimWorker* w, const std::string& payload) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (w->session == nullptr) return false;
    Result<std::string> frame = w->session->Seal(payload);
    if (!frame.ok() || !SendRaw(w->pipe, *frame)) {
      ++counters_.send_failures;
      return false;
    }
    return true;
  }

  bool SendRaw(uint32_t pipe, const std::string& bytes) {
    nng_msg* msg = nullptr;
    if (nng_msg_alloc(&msg, 0) != 0) return false;
    if (nng_msg_append(msg, bytes.data(), bytes.size()) != 0) {
      nng_msg_free(msg);
      return false;
    }
    nng_pipe p = NNG_PIPE_INITIALIZER;
    p.id = pipe;
    nng_msg_set_pipe(msg, p);
    // Never blocks (as BusClient): a full socket queue (8192) is a counted
    // send failure; a pipe whose own queue is full drops the message in
    // nng, which shows as requests missing from the coordinator's totals.
    if (nng_sendmsg(socket_, msg, NNG_FLAG_NONBLOCK) != 0) {
      nng_msg_free(msg);
      return false;
    }
    return true;
  }

  void Report(int64_t t_ms) {
    int running = 0;
    int dialed = 0;
    {
      MutexLock lock(&mu_);
      for (const SimWorker& w : workers_) running += w.running;
      dialed = dialed_;
    }
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_s = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    std::printf(
        "{\"t_ms\": %lld, \"dialed\": %d, \"authenticated\": %llu, \"welcomed\": %llu, "
        "\"assigned\": %llu, \"running\": %d, \"stats_sent\": %llu, \"finals_sent\": "
        "%llu, "
        "\"requests_sent\": %llu, \"heartbeats_sent\": %llu, \"send_failures\": %llu, "
        "\"disconnects\": %llu, \"bad_frames\": %llu, \"cpu_s\": %.2f}\n",
        static_cast<long long>(t_ms), dialed, U(counters_.authenticated),
        U(counters_.welcomed), U(counters_.assigned), running, U(counters_.stats_sent),
        U(counters_.finals_sent), U(counters_.requests_sent),
        U(counters_.heartbeats_sent), U(counters_.send_failures),
        U(counters_.disconnects), U(counters_.bad_frames), cpu_s);
    std::fflush(stdout);
  }
  static unsigned long long U(const std::atomic<uint64_t>& v) { return v.load(); }

  Options o_;
  std::string key_;
  nng_socket socket_ = NNG_SOCKET_INITIALIZER;
  std::thread receiver_;
  Mutex mu_;
  std::vector<SimWorker> workers_ GUARDED_BY(mu_);
  std::unordered_map<uint32_t, int> by_dialer_ GUARDED_BY(mu_);
  std::unordered_map<std::string, RunTemplates> templates_ GUARDED_BY(mu_);
  int dialed_ GUARDED_BY(mu_) = 0;
  int authenticated_now_ GUARDED_BY(mu_) = 0;
  Counters counters_;
};

// --decode-bench: what one stats message of this shape costs the
// coordinator, independent of the fleet's size: decoding it in either form
// (DecodeMessage) and merging it (Run::AddStats, with a second closed every
// 10,000 messages as in a run of 10,000 workers). Thread CPU time, so that
// a busy machine does not inflate the figures.
int64_t CpuNowNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * kNsPerSec + ts.tv_nsec;
}

// Average thread CPU us of fn(i) over rounds calls.
template <typename Fn>
double CpuUsPerCall(int rounds, Fn fn) {
  int64_t start = CpuNowNs();
  for (int i = 0; i < rounds; ++i) fn(i);
  return static_cast<double>(CpuNowNs() - start) / rounds / 1e3;
}

int DecodeBench(Options o) {
  constexpr int kRounds = 2000;
  o.json_stats = true;
  std::vector<std::string> json = FleetSim(o).TemplatesForBench();
  o.json_stats = false;
  std::vector<std::string> binary = FleetSim(o).TemplatesForBench();
  size_t ok = 0;
  double json_us = CpuUsPerCall(
      kRounds, [&](int i) { ok += DecodeMessage(json[i % json.size()]).ok(); });
  double binary_us = CpuUsPerCall(
      kRounds, [&](int i) { ok += DecodeMessage(binary[i % binary.size()]).ok(); });
  std::vector<StatsMsg> decoded;
  for (const std::string& b : binary) {
    Result<Message> msg = DecodeMessage(b);
    if (!msg.ok()) {
      std::fprintf(stderr, "fleet_sim: %s\n", msg.status().ToString().c_str());
      return 1;
    }
    decoded.push_back(std::get<StatsMsg>(std::move(*msg)));
  }
  Result<Plan> plan = ParsePlan(R"({"target": "http://127.0.0.1:9/", "users": 1000,
                                    "duration": "1h"})");
  if (!plan.ok()) return 1;
  Run run("bench", *plan, 0, 0, 0);
  RunWorker sim;
  sim.worker_id = "sim/0";
  run.AddWorker(std::move(sim));
  RunWorker* worker = run.CarryingWorkers().at(0);
  int64_t now_ns = 2 * kNsPerSec;
  // 10,000 messages a second, as from 10,000 workers.
  double merge_us = CpuUsPerCall(30'000, [&](int i) {
    run.AddStats(worker, decoded[i % decoded.size()], now_ns);
    if (i % 10'000 == 9'999) {
      now_ns += kNsPerSec;
      run.CloseSeconds(now_ns, false);
    }
  });
  std::printf(
      "{\"endpoints\": %d, \"json_bytes\": %zu, \"binary_bytes\": %zu, "
      "\"json_decode_cpu_us\": %.1f, \"binary_decode_cpu_us\": %.1f, "
      "\"merge_cpu_us\": %.1f, \"decoded_ok\": %zu}\n",
      o.endpoints, json[0].size(), binary[0].size(), json_us, binary_us, merge_us, ok);
  return ok == 2 * kRounds ? 0 : 1;
}

int Usage() {
  std::fprintf(
      stderr,
      "usage: fleet_sim --fleet-key-file FILE [--bus URL] [--workers N]\n"
      "                 [--workers-per-host N] [--endpoints N]\n"
      "                 [--requests-per-endpoint N] [--max-seconds S] [--json-stats]\n"
      "                 [--always-heartbeat]\n"
      "       fleet_sim --decode-bench [--endpoints N] [--requests-per-endpoint N]\n");
  return 2;
}

int Main(int argc, char** argv) {
  Options o;
  bool decode_bench = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--decode-bench") {
      decode_bench = true;
      continue;
    }
    if (flag == "--json-stats") {
      o.json_stats = true;
      continue;
    }
    if (flag == "--always-heartbeat") {
      o.always_heartbeat = true;
      continue;
    }
    if (i + 1 >= argc) return Usage();
    std::string value = argv[++i];
    if (flag == "--bus")
      o.bus = value;
    else if (flag == "--fleet-key-file")
      o.fleet_key_file = value;
    else if (flag == "--workers")
      o.workers = std::atoi(value.c_str());
    else if (flag == "--workers-per-host")
      o.workers_per_host = std::atoi(value.c_str());
    else if (flag == "--endpoints")
      o.endpoints = std::atoi(value.c_str());
    else if (flag == "--requests-per-endpoint")
      o.requests_per_endpoint = std::atoi(value.c_str());
    else if (flag == "--max-seconds")
      o.max_seconds = std::atoi(value.c_str());
    else
      return Usage();
  }
  if (decode_bench) return DecodeBench(o);
  if (o.fleet_key_file.empty() || o.workers < 1 || o.workers_per_host < 1 ||
      o.endpoints < 1 || o.endpoints > static_cast<int>(kMaxEndpointsPerStats)) {
    return Usage();
  }
  // One descriptor per simulated worker, plus nng's own.
  rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
    if (nofile.rlim_cur < static_cast<rlim_t>(o.workers) + 64) {
      std::fprintf(stderr, "fleet_sim: RLIMIT_NOFILE is %llu, too low for %d workers\n",
                   static_cast<unsigned long long>(nofile.rlim_cur), o.workers);
      return 1;
    }
  }
  Result<std::string> key = LoadFleetKey(o.fleet_key_file, "--fleet-key-file");
  if (!key.ok()) {
    std::fprintf(stderr, "fleet_sim: %s\n", key.status().ToString().c_str());
    return 1;
  }
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  FleetSim sim(o);
  Status st = sim.Start(*key);
  if (!st.ok()) {
    std::fprintf(stderr, "fleet_sim: %s\n", st.ToString().c_str());
    return 1;
  }
  sim.Run();
  return 0;
}

}  // namespace
}  // namespace loadd

int main(int argc, char** argv) { return loadd::Main(argc, argv); }
