// In-memory fakes of loadctl's outside world, for unit tests only.
#ifndef LOADD_CTL_TEST_FAKES_H_
#define LOADD_CTL_TEST_FAKES_H_

#include <deque>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "ctl/api_client.h"
#include "ctl/env.h"
#include "ctl/files.h"
#include "ctl/waiter.h"

namespace loadd {

// Answers each "METHOD /path" from a script: replies are used in order and
// the last one repeats. Unscripted requests get a 404.
class FakeApiClient final : public ApiClient {
 public:
  void On(const std::string& request, int status, const std::string& body) {
    script_[request].push_back(HttpReply{status, body});
  }
  void OnNoAnswer(const std::string& request) {
    script_[request].push_back(Status(NoAnswer(request)));
  }

  std::string BaseUrl() const override { return "http://fake:8089"; }
  Result<HttpReply> Get(const std::string& path) override {
    return Answer("GET " + path, "");
  }
  Result<HttpReply> Post(const std::string& path, const std::string& body) override {
    return Answer("POST " + path, body);
  }
  Result<HttpReply> Patch(const std::string& path, const std::string& body) override {
    return Answer("PATCH " + path, body);
  }

  std::vector<std::string> requests;  // "METHOD /path", in order
  std::vector<std::string> bodies;    // the request bodies, same order

 private:
  static Status NoAnswer(const std::string& request) {
    return Status(StatusCode::kUnavailable, "cannot reach the coordinator: " + request);
  }
  Result<HttpReply> Answer(const std::string& request, const std::string& body) {
    requests.push_back(request);
    bodies.push_back(body);
    auto it = script_.find(request);
    if (it == script_.end() || it->second.empty()) {
      return HttpReply{404,
                       R"({"error":{"code":"not_found","message":"no such route"}})"};
    }
    Result<HttpReply> reply = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return reply;
  }
  std::map<std::string, std::deque<Result<HttpReply>>> script_;
};

class FakeConnector final : public Connector {
 public:
  explicit FakeConnector(ApiClient* api) : api_(api) {}
  Result<ApiClient*> Connect() override {
    ++connects;
    return api_;
  }
  int connects = 0;

 private:
  ApiClient* api_;
};

class FakeFiles final : public Files {
 public:
  bool Exists(const std::string& path) override { return files.count(path) > 0; }
  Result<std::string> Read(const std::string& path, size_t max_bytes) override {
    auto it = files.find(path);
    if (it == files.end()) {
      return Status::Invalid(path, "cannot read: No such file or directory");
    }
    if (it->second.size() > max_bytes) return FileTooLarge(path, max_bytes);
    return it->second;
  }
  Status Write(const std::string& path, const std::string& content,
               uint32_t mode) override {
    if (unwritable.count(path) > 0) {
      return Status::Invalid(path, "cannot write: Permission denied");
    }
    files[path] = content;
    modes[path] = mode;
    return Status::Ok();
  }
  std::map<std::string, std::string> files;
  std::map<std::string, uint32_t> modes;  // the mode of each Write
  std::set<std::string> unwritable;       // Write fails for these paths
};

// Sleeping advances the clock; the interrupt arrives during sleep number
// interrupt_at_sleep (1-based; 0 = never).
class FakeWaiter final : public Waiter {
 public:
  explicit FakeWaiter(FakeClock* clock) : clock_(clock) {}
  void SleepNs(int64_t duration_ns) override {
    ++sleeps;
    if (interrupt_at_sleep != 0 && sleeps >= interrupt_at_sleep) interrupted_ = true;
    if (duration_ns > 0) clock_->AdvanceNs(duration_ns);
  }
  bool Interrupted() const override { return interrupted_; }
  int interrupt_at_sleep = 0;
  int sleeps = 0;

 private:
  FakeClock* clock_;
  bool interrupted_ = false;
};

// All fakes wired into an Env.
struct FakeWorld {
  FakeApiClient api;
  FakeConnector connector{&api};
  FakeFiles files;
  FakeClock clock{1000 * kNsPerSec};
  FakeWaiter waiter{&clock};
  std::ostringstream out, err;
  Env env;

  FakeWorld() {
    env.connector = &connector;
    env.files = &files;
    env.waiter = &waiter;
    env.clock = &clock;
    env.out = &out;
    env.err = &err;
  }
};

}  // namespace loadd

#endif  // LOADD_CTL_TEST_FAKES_H_
