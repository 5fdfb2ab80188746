// Engine: runs one worker's stripe of a closed-model plan on the event loop.
//
// Each user owns one keep-alive HTTP/1.1 connection and loops over the
// plan's requests (weighted round robin) with no thread and no blocking
// call: non-blocking sockets, edge-triggered epoll, responses parsed by
// http_parser as bytes arrive into one buffer shared by all users, so a user
// costs a few hundred bytes plus its socket.
//
// Lifecycle: Prepare() once, Start(start_ns); load runs until
// start_ns + duration, then no new request starts and in-flight ones get the
// plan's graceful_stop; what is still in flight then is counted as
// `interrupted`. Stop() ends everything now. on_done runs (deferred, on the
// loop) once every user has finished; the owner may then destroy the engine.
#ifndef LOADD_DAEMON_WORKER_ENGINE_H_
#define LOADD_DAEMON_WORKER_ENGINE_H_

#include <curl/curl.h>
#include <sys/socket.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/plan.h"
#include "daemon/worker/event_loop.h"
#include "daemon/worker/run_stats.h"
#include "daemon/worker/schedule.h"

namespace loadd {

class VirtualUser;
class CurlDriver;

// How users talk HTTP. kAuto: native HTTP/1.1 unless the plan has an
// https:// request, then libcurl for every user.
enum class EngineKind { kAuto, kNative, kCurl };
Result<EngineKind> ParseEngineKind(std::string_view name);

// A request ready to send, shared by every user.
struct PreparedRequest {
  std::string bytes;      // native path: the whole request, headers and body
  int address = 0;        // native path: index into Engine::addresses_
  bool head = false;      // response to HEAD has no body
  int slot = 0;           // RunStats slot
  // libcurl path.
  std::string url;
  std::string method;
  std::string body;
  bool has_body = false;
  curl_slist* curl_headers = nullptr;  // owned by the Engine
};

struct Address {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

class Engine : public TimerHandler {
 public:
  Engine(EventLoop* loop, Plan plan, int64_t stripe_index, int64_t stripe_count,
         EngineKind kind = EngineKind::kAuto);
  ~Engine() override;

  // Resolves hosts (blocking getaddrinfo, before any load) and builds requests.
  Status Prepare();
  void Start(int64_t start_ns);
  // Ends the run now; in-flight requests are counted as interrupted.
  void Stop();

  void set_on_done(std::function<void()> fn) { on_done_ = std::move(fn); }

  int64_t active_users() const { return active_users_; }
  int64_t local_users() const { return schedule_.LocalUsers(); }
  RunStats& stats() { return *stats_; }
  bool done() const { return done_; }
  bool uses_curl() const { return curl_ != nullptr; }

  // Used by users.
  EventLoop* loop() { return loop_; }
  const PreparedRequest& request(size_t i) const { return requests_[i]; }
  const Address& address(int i) const { return addresses_[i]; }
  size_t NextRequestIndex(int64_t* position) const;
  bool ending() const { return ending_; }
  int64_t timeout_ns() const { return plan_.timeout_ns; }
  char* read_buffer() { return read_buffer_.data(); }
  size_t read_buffer_size() const { return read_buffer_.size(); }
  void OnUserStarted() { ++active_users_; }
  void OnUserFinished();

  void OnTimer() override;  // end of duration, end of graceful stop

 private:
  void MaybeDone();

  Status PrepareNative(const RequestSpec& spec, std::map<std::string, int>* address_of,
                       PreparedRequest* req);
  void PrepareCurl(const RequestSpec& spec, PreparedRequest* req);

  EventLoop* loop_;
  Plan plan_;
  EngineKind kind_;
  std::unique_ptr<CurlDriver> curl_;
  ClosedSchedule schedule_;
  std::vector<Address> addresses_;
  std::vector<PreparedRequest> requests_;
  std::vector<uint32_t> rotation_;  // weighted round-robin order of request indices
  std::unique_ptr<RunStats> stats_;
  std::vector<std::unique_ptr<VirtualUser>> users_;
  std::vector<char> read_buffer_;
  Timer end_timer_{this, this};
  int64_t end_ns_ = 0;
  bool ending_ = false;       // duration over: no new requests
  bool aborting_ = false;     // graceful stop over, or Stop()
  bool done_ = false;
  int64_t active_users_ = 0;
  int64_t finished_users_ = 0;
  std::function<void()> on_done_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_ENGINE_H_
