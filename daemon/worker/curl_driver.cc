#include "daemon/worker/curl_driver.h"

#include <sys/epoll.h>

#include "common/clock.h"
#include "common/log.h"

namespace loadd {

// One watched socket: forwards epoll readiness to curl_multi_socket_action.
class CurlDriver::Socket final : public IoHandler {
 public:
  Socket(CurlDriver* driver, curl_socket_t fd) : driver_(driver), fd_(fd) {}
  void OnIo(uint32_t events) override {
    if (dead) return;  // closed earlier in this batch of events
    int mask = 0;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) mask |= CURL_CSELECT_IN;
    if (events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
    if (events & EPOLLERR) mask |= CURL_CSELECT_ERR;
    driver_->Action(fd_, mask);
  }
  uint32_t events = 0;  // what is registered with epoll now
  bool dead = false;

 private:
  CurlDriver* driver_;
  curl_socket_t fd_;
};

CurlDriver::CurlDriver(EventLoop* loop) : loop_(loop) {}

CurlDriver::~CurlDriver() {
  loop_->ForgetGroup(this);
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
}

Status CurlDriver::Init() {
  static const CURLcode kGlobal = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (kGlobal != CURLE_OK)
    return Status(StatusCode::kInternal, "curl_global_init failed");
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return Status(StatusCode::kInternal, "curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, OnTimeout);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  // Each user keeps its own connection; let the cache hold all of them.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 0L);
  // One connection per user, as on the native path: no HTTP/2 sharing.
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
  return Status::Ok();
}

void CurlDriver::Add(CURL* easy) {
  CURLMcode rc = curl_multi_add_handle(multi_, easy);
  if (rc != CURLM_OK) {
    void* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    static_cast<Transfer*>(priv)->OnDone(CURLE_FAILED_INIT);
  }
}

void CurlDriver::Remove(CURL* easy) { curl_multi_remove_handle(multi_, easy); }

int CurlDriver::OnSocket(CURL*, curl_socket_t fd, int what, void* driver_ptr,
                         void* socket_ptr) {
  auto* driver = static_cast<CurlDriver*>(driver_ptr);
  auto* socket = static_cast<Socket*>(socket_ptr);
  if (what == CURL_POLL_REMOVE) {
    if (socket != nullptr) {
      driver->loop_->Remove(fd);
      // Events for it may still be queued in this batch: free it after.
      socket->dead = true;
      driver->loop_->Defer([socket] { delete socket; });
      curl_multi_assign(driver->multi_, fd, nullptr);
    }
    return 0;
  }
  uint32_t events = EPOLLRDHUP;
  if (what & CURL_POLL_IN) events |= EPOLLIN;
  if (what & CURL_POLL_OUT) events |= EPOLLOUT;
  if (socket == nullptr) {
    socket = new Socket(driver, fd);
    curl_multi_assign(driver->multi_, fd, socket);
    if (!driver->loop_->Add(fd, events, socket).ok())
      LOG_WARN("curl socket %d: epoll add failed", fd);
  } else if (socket->events != events) {
    driver->loop_->Modify(fd, events, socket);
  }
  socket->events = events;
  return 0;
}

int CurlDriver::OnTimeout(CURLM*, long timeout_ms, void* driver_ptr) {
  auto* driver = static_cast<CurlDriver*>(driver_ptr);
  if (timeout_ms < 0) {
    driver->loop_->Disarm(&driver->timer_);
  } else {
    driver->loop_->Arm(&driver->timer_, driver->loop_->NowNs() + timeout_ms * kNsPerMs);
  }
  return 0;
}

void CurlDriver::OnTimer() { Action(CURL_SOCKET_TIMEOUT, 0); }

void CurlDriver::Action(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  DrainDone();
}

void CurlDriver::DrainDone() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode result = msg->data.result;
    void* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    curl_multi_remove_handle(multi_, easy);
    static_cast<Transfer*>(priv)->OnDone(result);
  }
}

}  // namespace loadd
