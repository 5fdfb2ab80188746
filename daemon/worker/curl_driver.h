// CurlDriver: libcurl's multi-socket API on our EventLoop. libcurl tells us
// which sockets to watch and when to time out; we tell it what happened. No
// thread, no blocking call. Used for what the native HTTP/1.1 path does not
// speak (https://), or for everything with `loadd worker --engine curl`.
//
// Loop-thread only. Completed transfers are handed to their owner through
// the Transfer interface (set as CURLOPT_PRIVATE).
#ifndef LOADD_DAEMON_WORKER_CURL_DRIVER_H_
#define LOADD_DAEMON_WORKER_CURL_DRIVER_H_

#include <curl/curl.h>

#include "common/status.h"
#include "daemon/worker/event_loop.h"

namespace loadd {

class CurlDriver final : public TimerHandler {
 public:
  class Transfer {
   public:
    virtual ~Transfer() = default;
    virtual void OnDone(CURLcode result) = 0;
  };

  explicit CurlDriver(EventLoop* loop);
  ~CurlDriver() override;

  Status Init();
  // The easy handle's CURLOPT_PRIVATE must be its Transfer*.
  void Add(CURL* easy);
  void Remove(CURL* easy);

  void OnTimer() override;

 private:
  class Socket;
  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* driver, void* socket);
  static int OnTimeout(CURLM* multi, long timeout_ms, void* driver);
  void Action(curl_socket_t fd, int events);
  void DrainDone();

  EventLoop* loop_;
  CURLM* multi_ = nullptr;
  Timer timer_{this, this};
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_CURL_DRIVER_H_
