#include "daemon/notifier.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace loadd {
namespace {

// A datagram socket standing in for systemd's notify socket: the test sets
// $NOTIFY_SOCKET to its path and reads what the notifier sent.
class NotifySocket {
 public:
  NotifySocket() {
    char dir_template[] = "/tmp/loadd-notify-XXXXXX";
    dir_ = mkdtemp(dir_template);
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  // Every datagram received so far.
  std::vector<std::string> Drain() {
    std::vector<std::string> got;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd_, buf, sizeof buf, 0)) > 0)
      got.emplace_back(buf, static_cast<size_t>(n));
    return got;
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

class SystemdNotifierTest : public testing::Test {
 protected:
  void SetUp() override { setenv("NOTIFY_SOCKET", socket_.path().c_str(), 1); }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  NotifySocket socket_;
};

TEST_F(SystemdNotifierTest, SendsReadyOnceStatusOnChangeWatchdogAndStopping) {
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.enabled());
  notifier.SetStatus("connecting to tcp://10.0.0.1:5557");
  notifier.Ready();
  notifier.Ready();
  notifier.SetStatus("idle");
  notifier.SetStatus("idle");
  notifier.SetStatus("run r1\nbusy");
  notifier.Watchdog();
  notifier.Stopping();
  std::vector<std::string> want = {"STATUS=connecting to tcp://10.0.0.1:5557",
                                   "READY=1",
                                   "STATUS=idle",
                                   "STATUS=run r1 busy",
                                   "WATCHDOG=1",
                                   "STOPPING=1"};
  EXPECT_EQ(socket_.Drain(), want);
}

TEST_F(SystemdNotifierTest, WatchdogIntervalIsHalfOfWatchdogUsec) {
  struct Case {
    const char* usec;  // $WATCHDOG_USEC, null for unset
    const char* pid;   // $WATCHDOG_PID: "self", "other" or null
    int64_t want_ns;
  };
  const Case cases[] = {
      {nullptr, nullptr, 0},
      {"10000000", nullptr, 5'000'000'000},
      {"10000000", "self", 5'000'000'000},
      {"3000", nullptr, 1'500'000},
      {"10000000", "other", 0},  // the watchdog is another process's
      {"0", nullptr, 0},
      {"garbage", nullptr, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.usec ? c.usec : "(unset)") + " pid " +
                 (c.pid ? c.pid : "-"));
    if (c.usec) setenv("WATCHDOG_USEC", c.usec, 1);
    if (c.pid) {
      std::string pid =
          std::to_string(std::string(c.pid) == "self" ? getpid() : getpid() + 1);
      setenv("WATCHDOG_PID", pid.c_str(), 1);
    }
    SystemdNotifier notifier;
    EXPECT_EQ(notifier.watchdog_interval_ns(), c.want_ns);
    // Read once: the variables are gone, as no child may ping for us.
    EXPECT_EQ(std::getenv("WATCHDOG_USEC"), nullptr);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
}

TEST(SystemdNotifierNoManagerTest, WithoutNotifySocketNothingIsSentAndNothingFails) {
  unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.enabled());
  notifier.Ready();
  notifier.SetStatus("idle");
  notifier.Watchdog();
  EXPECT_EQ(notifier.watchdog_interval_ns(), 0);
}

}  // namespace
}  // namespace loadd
