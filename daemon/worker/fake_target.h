// FakeTarget: an HTTP target in memory, on the event loop's clock, for
// engine and driver tests in virtual time (test-only; header only).
//
// Engine::set_connection_factory(target.Factory()) makes every user's
// connection a FakeConnection: a request is answered `service_ns` of loop
// time after it is sent, with the status, body and headers the target's
// handler chose, and counted as HttpConn counts it (latency from the
// intended start in the open model, service time apart). RunInVirtualTime
// runs the loop with nothing real in between: when nothing is due, the fake
// clock jumps to the next timer, so a 10 s run takes milliseconds and every
// instant is exact.
#ifndef LOADD_DAEMON_WORKER_FAKE_TARGET_H_
#define LOADD_DAEMON_WORKER_FAKE_TARGET_H_

#include <algorithm>
#include <cctype>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "daemon/worker/connection.h"
#include "daemon/worker/engine.h"
#include "daemon/worker/event_loop.h"

namespace loadd {

struct FakeResponse {
  int status = 200;
  int64_t service_ns = 0;  // time from sending to the whole answer
  std::string body = "ok";
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "text/plain"}};
};

class FakeTarget {
 public:
  // Chooses the answer to a request (path: its request-target, from the
  // native request bytes).
  using Handler = std::function<FakeResponse(const std::string& path, int64_t now_ns)>;

  explicit FakeTarget(Handler handler = nullptr) : handler_(std::move(handler)) {}

  Engine::ConnectionFactory Factory();

  FakeResponse Answer(const PreparedRequest& req, int64_t now_ns) {
    sent_ns.push_back(now_ns);
    std::string path = PathOf(req.bytes);
    paths.push_back(path);
    return handler_ ? handler_(path, now_ns) : FakeResponse{};
  }

  // "GET /a?b HTTP/1.1\r\n..." -> "/a?b".
  static std::string PathOf(const std::string& bytes) {
    size_t sp = bytes.find(' ');
    if (sp == std::string::npos) return "";
    size_t end = bytes.find(' ', sp + 1);
    return bytes.substr(sp + 1, end == std::string::npos ? end : end - sp - 1);
  }

  int64_t answered = 0;          // responses delivered
  std::vector<int64_t> sent_ns;  // when each request was sent, loop time
  std::vector<std::string> paths;

 private:
  Handler handler_;
};

class FakeConnection final : public Connection, public TimerHandler {
 public:
  FakeConnection(Engine* engine, FakeTarget* target, ExchangeOwner* owner)
      : engine_(engine), target_(target), owner_(owner), timer_(this, engine) {}

  void Exchange(const PreparedRequest* request, int64_t intended_ns) override {
    req_ = request;
    intended_ns_ = intended_ns;
    sent_ns_ = engine_->loop()->NowNs();
    response_ = target_->Answer(*request, sent_ns_);
    busy_ = true;
    int64_t timeout_ns = req_->timeout_ns > 0 ? req_->timeout_ns : engine_->timeout_ns();
    timed_out_ = response_.service_ns > timeout_ns;
    engine_->loop()->Arm(&timer_, sent_ns_ + std::min(response_.service_ns, timeout_ns));
  }
  bool busy() const override { return busy_; }
  void Interrupt() override {
    if (!busy_) return;
    busy_ = false;
    engine_->loop()->Disarm(&timer_);
    engine_->stats().RecordError(req_->slot, ErrorKind::kInterrupted);
  }
  void Close() override {}

  void OnTimer() override {
    if (!busy_) return;
    busy_ = false;
    ExchangeResult result;
    if (timed_out_) {
      engine_->stats().RecordError(req_->slot, ErrorKind::kTimeout);
      owner_->OnExchangeDone(this, result);
      return;
    }
    int64_t now = engine_->loop()->NowNs();
    int64_t service_us = (now - sent_ns_) / kNsPerUs;
    result.ok = true;
    result.status = response_.status;
    result.latency_us = intended_ns_ > 0 ? (now - intended_ns_) / kNsPerUs : service_us;
    if (req_->capture_body) result.body = response_.body;
    for (const auto& [name, value] : response_.headers) {
      const auto& want = req_->capture_headers;
      if (std::find(want.begin(), want.end(), name) != want.end()) {
        result.headers.emplace_back(name, value);
      }
    }
    engine_->stats().RecordResponse(req_->slot, result.latency_us,
                                    intended_ns_ > 0 ? service_us : -1, response_.status,
                                    static_cast<int64_t>(response_.body.size()));
    ++target_->answered;
    owner_->OnExchangeDone(this, result);
  }

 private:
  Engine* engine_;
  FakeTarget* target_;
  ExchangeOwner* owner_;
  Timer timer_;
  const PreparedRequest* req_ = nullptr;
  FakeResponse response_;
  int64_t intended_ns_ = 0;
  int64_t sent_ns_ = 0;
  bool busy_ = false;
  bool timed_out_ = false;
};

inline Engine::ConnectionFactory FakeTarget::Factory() {
  return [this](Engine* engine, ExchangeOwner* owner) -> std::unique_ptr<Connection> {
    return std::make_unique<FakeConnection>(engine, this, owner);
  };
}

// Runs `loop` until it stops, or until the clock reaches limit_ns: whatever
// is due runs, then the clock jumps to the next deadline. Returns false if
// the limit was reached first.
inline bool RunInVirtualTime(EventLoop* loop, FakeClock* clock, int64_t limit_ns) {
  while (!loop->stopped()) {
    if (loop->RunOnce(0) < 0) return false;
    if (loop->stopped()) break;
    int64_t next_ns = loop->NextDeadlineNs();
    if (next_ns > limit_ns) return false;
    if (next_ns > clock->NowNs()) clock->SetNs(next_ns);
  }
  return true;
}

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_FAKE_TARGET_H_
