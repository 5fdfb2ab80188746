// CurlUser: a user whose requests go through libcurl (CurlDriver): https://,
// or everything with `--engine curl`. Same lifecycle and statistics as the
// native User. Loop-thread only; owned by its Engine.
#ifndef LOADD_DAEMON_WORKER_CURL_USER_H_
#define LOADD_DAEMON_WORKER_CURL_USER_H_

#include <curl/curl.h>

#include <cstdint>

#include "daemon/worker/curl_driver.h"
#include "daemon/worker/user.h"

namespace loadd {

class CurlUser final : public VirtualUser, public TimerHandler, public CurlDriver::Transfer {
 public:
  CurlUser(Engine* engine, CurlDriver* driver, int64_t global_index, int64_t start_ns);
  ~CurlUser() override;

  void OnTimer() override;  // start time
  void OnDone(CURLcode result) override;
  void Abort() override;
  void FinishIfIdle() override;

 private:
  static size_t OnData(char* data, size_t size, size_t n, void* user);
  void NextRequest();
  void Finish();

  Engine* engine_;
  CurlDriver* driver_;
  CURL* easy_;
  Timer timer_;
  int64_t rotation_pos_;
  size_t request_ = 0;
  int64_t sent_ns_ = 0;
  int64_t bytes_in_ = 0;
  bool begun_ = false;
  bool in_flight_ = false;
  bool finished_ = false;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_CURL_USER_H_
