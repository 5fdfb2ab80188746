// Engine: runs one worker's share of a run on the event loop: the prepared
// requests, the statistics, the run's lifecycle, and a Driver (closed or
// open model) that decides when requests start on Connections (native
// HTTP/1.1, or libcurl). No thread, no blocking call after Prepare().
//
// Lifecycle: Prepare() once, Start(); load runs until run time `duration`,
// then no new request starts and in-flight ones get the plan's
// graceful_stop; what is still in flight then is counted as `interrupted`.
// Stop() ends everything now. on_done runs (deferred, on the loop) once
// nothing is in flight; the owner may then destroy the engine.
#ifndef LOADD_DAEMON_WORKER_ENGINE_H_
#define LOADD_DAEMON_WORKER_ENGINE_H_

#include <curl/curl.h>
#include <sys/socket.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/host_allow_list.h"
#include "common/plan.h"
#include "common/wire.h"
#include "daemon/worker/connection.h"
#include "daemon/worker/data_picker.h"
#include "daemon/worker/driver.h"
#include "daemon/worker/event_loop.h"
#include "daemon/worker/resolver.h"
#include "daemon/worker/run_stats.h"
#include "daemon/worker/scenario_runner.h"

namespace loadd {

class CurlDriver;
class TlsContext;

// How users talk HTTP. kAuto: the native HTTP/1.1 engine (plain and TLS),
// except libcurl for every user when the plan asks for HTTP/2, or when its
// http_version is "auto" and an https:// host picks h2 in a probe
// handshake (Engine::Prepare logs which engine and why).
enum class EngineKind { kAuto, kNative, kCurl };
Result<EngineKind> ParseEngineKind(std::string_view name);

struct Address {
  sockaddr_storage addr{};
  socklen_t len = 0;
  bool tls = false;  // https://
  std::string host;  // the URL's host: SNI and the name the certificate must carry
};

class Engine : public TimerHandler {
 public:
  Engine(EventLoop* loop, Plan plan, EngineKind kind = EngineKind::kAuto);
  ~Engine() override;

  // Resolves hosts (blocking, before any load) and builds requests. A host
  // that does not resolve is the error returned, naming the host; so is a
  // host the allow list refuses at the address it resolved to
  // (kPermissionDenied, before any socket, the ALPN probe's too). libcurl
  // gets each host pinned to the address checked here (CURLOPT_RESOLVE).
  Status Prepare();
  // run_start_ns: this worker's clock reading of run time 0 (may be in the
  // past when joining a run already going). share: the worker's classes.
  void Start(int64_t run_start_ns, const std::vector<ShareChange>& share,
             double handover_rate);
  // The share changes mid-run (a worker joined or left).
  void Reshare(const std::vector<ShareChange>& changes, double handover_rate);
  // The run was scaled (ProfileMsg): the driver follows `profile` from now
  // on. Refused (false, nothing changes) when its end is not the plan's.
  bool SetProfile(LoadProfile profile);
  // Ends the run now; in-flight requests are counted as interrupted.
  void Stop();
  // Ends the run early but gracefully (SIGTERM): no new request starts,
  // in-flight ones get grace_ns more (never more than the run's own end
  // would give them), then Stop().
  void Finish(int64_t grace_ns);

  void set_on_done(std::function<void()> fn) { on_done_ = std::move(fn); }
  // Where connections come from: HttpConn or CurlConn unless set (tests set
  // a fake that answers on the loop's clock; see fake_connection.h).
  using ConnectionFactory =
      std::function<std::unique_ptr<Connection>(Engine*, ExchangeOwner*)>;
  void set_connection_factory(ConnectionFactory factory) {
    connection_factory_ = std::move(factory);
  }

  // Where host names resolve (not owned; DefaultResolver() unless set).
  // Set before Prepare().
  void set_resolver(Resolver* resolver) { resolver_ = resolver; }
  // Where connections may go (the assign's list; loopback only unless set).
  // Set before Prepare().
  void set_allow_list(HostAllowList list) { allow_list_ = std::move(list); }

  int64_t active_users() const { return driver_ ? driver_->active() : 0; }
  RunStats& stats() { return *stats_; }
  bool done() const { return done_; }
  bool uses_curl() const { return curl_ != nullptr; }

  // Used by drivers and connections.
  EventLoop* loop() { return loop_; }
  std::unique_ptr<Connection> NewConnection(ExchangeOwner* owner);
  const PreparedRequest* request(size_t i) const { return &requests_[i]; }
  // Resolves a URL's host (once per scheme, host and port) and checks the
  // address against the allow list: kPermissionDenied naming host and
  // address when refused (nothing is cached then).
  Result<int> AddressFor(const Url& url);
  // libcurl path: "host:port:address" for every host of the plan, the
  // addresses AddressFor checked (CURLOPT_RESOLVE; owned by the engine).
  curl_slist* curl_resolve() const { return curl_resolve_; }
  // libcurl's open-socket vet, before socket(): addr must be one that
  // AddressFor checked, or in an IP/CIDR entry of the allow list. A refusal
  // (the request then fails as a connect error) is logged once per run.
  bool MayConnect(const sockaddr* addr, socklen_t len);
  int64_t refused_connects() const { return refused_connects_; }
  // The TLS settings of https:// connections on the native path (nullptr
  // when the plan has no https:// URL or runs on libcurl).
  const TlsContext* tls() const { return tls_.get(); }
  // Logs the first TLS failure of the run (later ones are only counted).
  void NoteTlsFailure(const Address& address, const std::string& why);
  const Plan& plan() const { return plan_; }
  // The RunStats slot of a name (request or step).
  int SlotOf(const std::string& name) const;
  // The plan's data file rows for this worker (nullptr without a data file).
  DataPicker* data() { return data_.get(); }
  // Scenario plans only (nullptr for a plan of requests).
  const CompiledScenarios* scenarios() const {
    return plan_.scenarios.empty() ? nullptr : &compiled_;
  }
  const Address& address(int i) const { return addresses_[i]; }
  // Closed model: the user's next request (weighted round robin from its
  // own position). Open model: the request of fleet-wide iteration m, so
  // weights hold exactly across the fleet.
  size_t NextRequestIndex(int64_t* position) const;
  size_t RequestForIteration(int64_t m) const { return rotation_[m % rotation_.size()]; }
  int64_t timeout_ns() const { return plan_.timeout_ns; }
  char* read_buffer() { return read_buffer_.data(); }
  size_t read_buffer_size() const { return read_buffer_.size(); }
  // A request finished or a user stopped: the run may be over.
  void MaybeDone();

  void OnTimer() override;  // end of duration, end of graceful stop

 private:
  // Whether to run on libcurl (kind_ and the plan's http_version, else an
  // ALPN probe of each https:// host); *why says why, for the log.
  Result<bool> ChooseCurl(std::string* why);
  Result<std::string> ProbeHttpsHosts();
  Status PrepareNative(const RequestSpec& spec, PreparedRequest* req);
  // Resolves and checks every host of the plan for libcurl (curl_resolve_).
  Status PinCurlHosts();
  void PrepareCurl(const RequestSpec& spec, PreparedRequest* req);

  EventLoop* loop_;
  Plan plan_;
  EngineKind kind_;
  std::unique_ptr<CurlDriver> curl_;
  std::unique_ptr<TlsContext> tls_;
  bool tls_failure_logged_ = false;
  std::vector<Address> addresses_;
  std::vector<PreparedRequest> requests_;
  std::vector<uint32_t> rotation_;  // weighted round-robin order of request indices
  std::map<std::string, int> address_of_;  // "scheme://host:port" -> addresses_ index
  std::map<std::string, int> slot_of_;     // request or step name -> stats slot
  CompiledScenarios compiled_;
  std::unique_ptr<DataPicker> data_;
  std::unique_ptr<RunStats> stats_;
  std::unique_ptr<Driver> driver_;
  std::vector<char> read_buffer_;
  Timer end_timer_{this, this};
  int64_t end_ns_ = 0;
  bool ending_ = false;    // duration over: no new requests
  bool aborting_ = false;  // graceful stop over, or Stop()
  bool done_ = false;
  std::function<void()> on_done_;
  ConnectionFactory connection_factory_;
  Resolver* resolver_ = DefaultResolver();
  HostAllowList allow_list_;
  curl_slist* curl_resolve_ = nullptr;
  bool refusal_logged_ = false;
  int64_t refused_connects_ = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_ENGINE_H_
