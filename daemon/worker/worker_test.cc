// Worker on a fake clock and a fake bus: registration, heartbeats, silence
// and grace, re-registration, stats ticks, and the order of a graceful exit.
// Nothing sleeps: the test moves the clock and serves what is due. Runs
// (the tests near the end) send real requests to a loopback socket that
// never answers, so in-flight requests are there to drain or interrupt.
#include "daemon/worker/worker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/plan.h"
#include "common/wire.h"
#include "daemon/worker/fake_resolver.h"

namespace loadd {
namespace {

// The coordinator's side of the bus, in memory.
class FakeBus final : public WorkerBus {
 public:
  explicit FakeBus(const Clock* clock)
      : clock_(clock), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~FakeBus() override { close(fd_); }

  Status Send(const std::string& bytes) override {
    if (!connected_) return Status(StatusCode::kUnavailable, "not connected");
    Result<Message> msg = DecodeMessage(bytes);
    EXPECT_TRUE(msg.ok()) << msg.status().ToString();
    if (msg.ok()) sent.push_back({clock_->NowNs(), std::move(*msg)});
    return Status::Ok();
  }
  bool TryRecv(std::string* out) override {
    if (inbox_.empty()) {
      uint64_t drained;
      ssize_t ignored = read(fd_, &drained, sizeof drained);
      (void)ignored;
      return false;
    }
    *out = std::move(inbox_.front());
    inbox_.pop_front();
    return true;
  }
  int recv_fd() const override { return fd_; }
  uint64_t connection_epoch() const override { return epoch_; }
  bool connected() const override { return connected_; }

  // A new authenticated connection (the first, or after a reconnect).
  void Connect() {
    connected_ = true;
    ++epoch_;
  }
  void Disconnect() { connected_ = false; }
  void Deliver(const Message& msg) {
    inbox_.push_back(EncodeMessageAsJson(msg));
    uint64_t one = 1;
    ssize_t ignored = write(fd_, &one, sizeof one);
    (void)ignored;
  }

  struct Sent {
    int64_t at_ns;
    Message msg;
  };
  std::vector<Sent> sent;

  template <typename T>
  std::vector<std::pair<int64_t, T>> Of() const {
    std::vector<std::pair<int64_t, T>> out;
    for (const Sent& s : sent) {
      if (const T* m = std::get_if<T>(&s.msg)) out.push_back({s.at_ns, *m});
    }
    return out;
  }

 private:
  const Clock* clock_;
  int fd_;
  bool connected_ = false;
  uint64_t epoch_ = 0;
  std::deque<std::string> inbox_;
};

class FakeNotifier final : public Notifier {
 public:
  void Ready() override { ++ready; }
  void SetStatus(const std::string&) override {}
  void Watchdog() override {}
  void Stopping() override {}
  int64_t watchdog_interval_ns() const override { return 0; }
  int ready = 0;
};

// A TCP listener on loopback that never accepts or answers: connections
// complete in the kernel's backlog and requests stay in flight.
class SilentTarget {
 public:
  SilentTarget() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 64), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentTarget() { close(fd_); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }

  void StartWorker(WorkerConfig config = {}) {
    config.host_id = "host-a";
    config.instance = 3;
    config.loopback_sources = false;
    worker_ = std::make_unique<Worker>(&loop_, &bus_, config);
    worker_->set_notifier(&notifier_);
    worker_->set_resolver(&resolver_);
    ASSERT_TRUE(worker_->Start().ok());
  }

  // Moves the fake clock in steps, serving whatever is due after each.
  void AdvanceMs(int64_t ms, int64_t step_ms = 10) {
    for (int64_t t = 0; t < ms && !loop_.stopped(); t += step_ms) {
      clock_.AdvanceNs(step_ms * kNsPerMs);
      loop_.RunOnce(0);
    }
  }

  void Welcome(int64_t heartbeat_ms = 1000, int64_t timeout_ms = 3000) {
    bus_.Deliver(WelcomeMsg{"w1", heartbeat_ms, timeout_ms});
    AdvanceMs(10);
  }

  // url: the target (the silent one unless given).
  AssignMsg Assignment(int64_t users, const std::string& extra = "",
                       const std::string& url = "") {
    Result<Plan> plan =
        ParsePlan(R"({"target": ")" + (url.empty() ? target_.Url() : url) +
                  R"(", "users": )" + std::to_string(users) +
                  R"(, "spawn_rate": 1000, "duration": "60s",
                                  "timeout": "30s")" +
                  extra + "}");
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    AssignMsg assign;
    assign.run_id = "run-1";
    assign.plan = *plan;
    assign.share = {ShareChange{true, 1, 0, 1, 0, -1}};
    assign.handover_rate = 1000;
    assign.run_time_ms = -100;  // starts 100 ms from now
    return assign;
  }

  double NowMs() const { return static_cast<double>(clock_.NowNs()) / kNsPerMs; }

  FakeClock clock_{1000 * kNsPerSec};
  EventLoop loop_{&clock_};
  FakeBus bus_{&clock_};
  FakeNotifier notifier_;
  SilentTarget target_;
  FakeResolver resolver_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WorkerTest, RegistersOnlyOnceConnected) {
  StartWorker();
  AdvanceMs(2000);
  EXPECT_TRUE(bus_.sent.empty()) << "nothing can go out before the bus connects";
  int64_t connected_ns = clock_.NowNs();
  bus_.Connect();
  AdvanceMs(200);
  auto hellos = bus_.Of<HelloMsg>();
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_LE(hellos[0].first - connected_ns, 100 * kNsPerMs) << "registers within 100 ms";
  EXPECT_EQ(hellos[0].second.host, "host-a");
  EXPECT_EQ(hellos[0].second.instance, 3);
  EXPECT_EQ(hellos[0].second.run_id, "");
  EXPECT_EQ(worker_->StatusLine().rfind("connecting to ", 0), 0u);
}

TEST_F(WorkerTest, HelloCarriesTheLabels) {
  WorkerConfig config;
  config.labels = {{"pool", "eu"}, {"rack", "3"}};
  StartWorker(config);
  bus_.Connect();
  AdvanceMs(200);
  auto hellos = bus_.Of<HelloMsg>();
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0].second.labels, (Labels{{"pool", "eu"}, {"rack", "3"}}));
}

TEST_F(WorkerTest, WelcomeMakesItReadyAndANewConnectionRegistersAgain) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(200);
  Welcome();
  EXPECT_EQ(notifier_.ready, 1);
  EXPECT_EQ(worker_->StatusLine().rfind("registered with ", 0), 0u);
  AdvanceMs(3000);
  EXPECT_EQ(bus_.Of<HelloMsg>().size(), 1u) << "one hello per connection";
  bus_.Connect();  // reconnected: a new epoch
  AdvanceMs(600);
  EXPECT_EQ(bus_.Of<HelloMsg>().size(), 2u);
}

TEST_F(WorkerTest, HeartbeatsGoOnlyAfterAnIntervalWithNothingSent) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(100);
  Welcome(/*heartbeat_ms=*/1000, /*timeout_ms=*/60'000);
  for (int s = 0; s < 10; ++s) {  // the coordinator pings every second
    AdvanceMs(1000);
    bus_.Deliver(PingMsg{});
  }
  auto beats = bus_.Of<HeartbeatMsg>();
  ASSERT_GE(beats.size(), 6u);
  int64_t last = bus_.Of<HelloMsg>().back().first;
  for (const auto& [at_ns, beat] : beats) {
    // Never sooner than an interval after the last message, never later
    // than 1.5 intervals (checked every half interval).
    EXPECT_GE(at_ns - last, 1000 * kNsPerMs);
    EXPECT_LE(at_ns - last, 1500 * kNsPerMs + 10 * kNsPerMs);
    EXPECT_EQ(beat.users, 0);
    last = at_ns;
  }
}

TEST_F(WorkerTest, SilencePastTheCoordinatorsTimeoutMakesItRegisterAgain) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(100);
  Welcome(/*heartbeat_ms=*/1000, /*timeout_ms=*/3000);
  for (int s = 0; s < 5; ++s) {
    AdvanceMs(1000);
    bus_.Deliver(PingMsg{});
  }
  AdvanceMs(10);
  int64_t last_word_ns = clock_.NowNs();
  ASSERT_EQ(bus_.Of<HelloMsg>().size(), 1u) << "pings every second keep it registered";
  AdvanceMs(5000);
  auto hellos = bus_.Of<HelloMsg>();
  ASSERT_EQ(hellos.size(), 2u) << "adrift after 3 s of silence: registers again";
  // The silence is checked every half interval, and the hello goes at the
  // next check: at most a whole interval after the limit.
  int64_t after_ns = hellos[1].first - last_word_ns;
  EXPECT_GT(after_ns, 3000 * kNsPerMs);
  EXPECT_LE(after_ns, 3000 * kNsPerMs + 1000 * kNsPerMs + 20 * kNsPerMs);
}

TEST_F(WorkerTest, ItsOwnGraceShorterThanTheTimeoutWins) {
  WorkerConfig config;
  config.coordinator_grace_ms = 1500;
  StartWorker(config);
  bus_.Connect();
  AdvanceMs(100);
  Welcome(/*heartbeat_ms=*/500, /*timeout_ms=*/10'000);
  int64_t last_word_ns = clock_.NowNs();
  AdvanceMs(4000);
  auto hellos = bus_.Of<HelloMsg>();
  ASSERT_GE(hellos.size(), 2u);
  EXPECT_GT(hellos[1].first - last_word_ns, 1500 * kNsPerMs);
  EXPECT_LE(hellos[1].first - last_word_ns,
            1500 * kNsPerMs + 500 * kNsPerMs + 20 * kNsPerMs);
}

TEST_F(WorkerTest, ShutdownWithoutARunSaysGoodbyeAndStopsTheLoop) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(100);
  Welcome();
  worker_->Shutdown();
  EXPECT_TRUE(loop_.stopped());
  ASSERT_FALSE(bus_.sent.empty());
  EXPECT_TRUE(std::holds_alternative<GoodbyeMsg>(bus_.sent.back().msg));
}

TEST_F(WorkerTest, ARunSendsStatsOnWholeSecondsOfRunTime) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(100);
  Welcome(1000, 60'000);
  int64_t assigned_ns = clock_.NowNs();
  bus_.Deliver(Assignment(4));
  for (int s = 0; s < 5; ++s) {
    AdvanceMs(1000);
    bus_.Deliver(PingMsg{});
  }
  auto stats = bus_.Of<StatsMsg>();
  ASSERT_GE(stats.size(), 4u);
  int64_t run_start_ns = assigned_ns + 100 * kNsPerMs;
  for (size_t i = 0; i < stats.size(); ++i) {
    EXPECT_EQ(stats[i].second.run_id, "run-1");
    EXPECT_EQ(stats[i].second.seq, static_cast<int64_t>(i));
    EXPECT_FALSE(stats[i].second.final);
    // Due at run time (i + 1) s; served within the test's 10 ms step.
    int64_t due_ns = run_start_ns + static_cast<int64_t>(i + 1) * kNsPerSec;
    EXPECT_GE(stats[i].first, due_ns);
    EXPECT_LT(stats[i].first, due_ns + 20 * kNsPerMs);
  }
  EXPECT_EQ(stats.back().second.users, 4);
  for (const auto& [at_ns, beat] : bus_.Of<HeartbeatMsg>()) {
    EXPECT_LT(at_ns, stats[0].first) << "stats every second stand for heartbeats";
  }
}

TEST_F(WorkerTest, SilenceStopsTheLoadSendsFinalStatsThenRegistersAgain) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(100);
  Welcome(1000, 3000);
  bus_.Deliver(Assignment(4));
  AdvanceMs(1000);
  bus_.Deliver(PingMsg{});
  AdvanceMs(10);
  int64_t last_word_ns = clock_.NowNs();
  AdvanceMs(5000);  // the coordinator is silent
  auto stats = bus_.Of<StatsMsg>();
  ASSERT_FALSE(stats.empty());
  // The load stopped once the silence passed 3 s: the final stats say so.
  const auto& [final_ns, final_stats] = stats.back();
  EXPECT_TRUE(final_stats.final);
  EXPECT_GT(final_ns - last_word_ns, 3000 * kNsPerMs);
  EXPECT_LE(final_ns - last_word_ns, 3000 * kNsPerMs + 600 * kNsPerMs);
  EXPECT_EQ(worker_->run_id(), "");
  auto hellos = bus_.Of<HelloMsg>();
  ASSERT_EQ(hellos.size(), 2u);
  EXPECT_GE(hellos[1].first, final_ns) << "registers again after the final stats";
  EXPECT_EQ(hellos[1].second.run_id, "") << "nothing runs any more";
}

TEST_F(WorkerTest, GracefulExitDrainsThenSendsFinalStatsThenGoodbye) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(100);
  Welcome(1000, 60'000);
  bus_.Deliver(Assignment(2, R"(, "graceful_stop": "2s")"));
  AdvanceMs(1500);
  ASSERT_EQ(worker_->run_id(), "run-1");
  int64_t signalled_ns = clock_.NowNs();
  worker_->Shutdown();
  EXPECT_NE(worker_->StatusLine().find("stopping"), std::string::npos);
  AdvanceMs(1000);
  EXPECT_FALSE(loop_.stopped()) << "requests in flight get their drain time";
  // The target never answers: the drain (2 s) and its margin (1 s) pass,
  // then what is in flight is interrupted.
  AdvanceMs(4000);
  ASSERT_TRUE(loop_.stopped());
  ASSERT_GE(bus_.sent.size(), 2u);
  const auto& last = bus_.sent[bus_.sent.size() - 1];
  const auto& before = bus_.sent[bus_.sent.size() - 2];
  ASSERT_TRUE(std::holds_alternative<GoodbyeMsg>(last.msg));
  ASSERT_TRUE(std::holds_alternative<StatsMsg>(before.msg));
  EXPECT_TRUE(std::get<StatsMsg>(before.msg).final);
  EXPECT_GE(last.at_ns - signalled_ns, 2000 * kNsPerMs);
  EXPECT_LE(last.at_ns - signalled_ns, 3600 * kNsPerMs);
}

TEST_F(WorkerTest, AStopFromTheCoordinatorEndsTheRunAtOnce) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(100);
  Welcome(1000, 60'000);
  bus_.Deliver(Assignment(2));
  AdvanceMs(1500);
  bus_.Deliver(StopMsg{"other-run"});
  AdvanceMs(20);
  EXPECT_EQ(worker_->run_id(), "run-1") << "a stop for another run changes nothing";
  bus_.Deliver(StopMsg{"run-1"});
  AdvanceMs(20);
  EXPECT_EQ(worker_->run_id(), "");
  auto stats = bus_.Of<StatsMsg>();
  ASSERT_FALSE(stats.empty());
  EXPECT_TRUE(stats.back().second.final);
  EXPECT_FALSE(loop_.stopped()) << "the worker stays for the next run";
}

TEST_F(WorkerTest, ARunWhoseHostDoesNotResolveEndsAtOnceAndTheNextOneRuns) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(100);
  Welcome(1000, 60'000);
  std::string port = std::to_string(target_.port());
  AssignMsg lost = Assignment(4, "", "http://nowhere.test:" + port + "/");
  bus_.Deliver(lost);
  AdvanceMs(20);
  EXPECT_EQ(resolver_.lookups, (std::vector<std::string>{"nowhere.test:" + port}));
  auto stats = bus_.Of<StatsMsg>();
  ASSERT_EQ(stats.size(), 1u) << "the coordinator hears at once that it cannot run";
  EXPECT_EQ(stats[0].second.run_id, "run-1");
  EXPECT_TRUE(stats[0].second.final);
  EXPECT_EQ(stats[0].second.users, 0);
  EXPECT_EQ(worker_->run_id(), "");
  // The same worker takes the next run, its host resolving to the target.
  resolver_.Add("api.test", "127.0.0.1");
  AssignMsg next = Assignment(4, "", "http://api.test:" + port + "/");
  next.run_id = "run-2";
  next.allow_hosts = {"api.test", "127.0.0.0/8"};
  bus_.Deliver(next);
  AdvanceMs(1500);
  EXPECT_EQ(worker_->run_id(), "run-2");
  stats = bus_.Of<StatsMsg>();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[1].second.run_id, "run-2");
  EXPECT_FALSE(stats[1].second.final);
  EXPECT_EQ(stats[1].second.users, 4);
}

// The assign's allow list reaches the engine: a name allowed by name but
// resolved outside the list's address entries never starts. (Both
// addresses are loopback, so even a broken check sends nothing elsewhere.)
TEST_F(WorkerTest, ARunWhoseHostResolvesOutsideTheAllowListNeverStarts) {
  StartWorker();
  bus_.Connect();
  AdvanceMs(100);
  Welcome(1000, 60'000);
  std::string port = std::to_string(target_.port());
  resolver_.Add("api.test", "127.0.0.1");
  AssignMsg refused = Assignment(4, "", "http://api.test:" + port + "/");
  refused.allow_hosts = {"api.test", "127.0.0.2"};
  bus_.Deliver(refused);
  AdvanceMs(20);
  auto stats = bus_.Of<StatsMsg>();
  ASSERT_EQ(stats.size(), 1u) << "the coordinator hears at once that it cannot run";
  EXPECT_TRUE(stats[0].second.final);
  EXPECT_EQ(stats[0].second.users, 0);
  EXPECT_EQ(worker_->run_id(), "");
  // The same host with its address allowed runs.
  AssignMsg next = Assignment(4, "", "http://api.test:" + port + "/");
  next.run_id = "run-2";
  next.allow_hosts = {"api.test", "127.0.0.0/8"};
  bus_.Deliver(next);
  AdvanceMs(1500);
  EXPECT_EQ(worker_->run_id(), "run-2");
  stats = bus_.Of<StatsMsg>();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[1].second.users, 4);
}

}  // namespace
}  // namespace loadd
