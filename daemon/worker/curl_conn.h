// CurlConn: a connection whose requests go through libcurl (CurlDriver):
// https://, or everything with `loadd worker --engine curl`. Same contract
// as HttpConn. Loop-thread only.
#ifndef LOADD_DAEMON_WORKER_CURL_CONN_H_
#define LOADD_DAEMON_WORKER_CURL_CONN_H_

#include <curl/curl.h>

#include <cstdint>

#include "daemon/worker/connection.h"
#include "daemon/worker/curl_driver.h"

namespace loadd {

class Engine;

// The CURLOPT_OPENSOCKETFUNCTION of CurlConn (clientp: the Engine): an
// address the engine refuses (Engine::MayConnect) gets no socket, so
// libcurl fails the request with CURLE_COULDNT_CONNECT (a connect error)
// before any connect(); others get OpenCurlSocket (source_addr.h).
curl_socket_t VetAndOpenCurlSocket(void* engine, curlsocktype purpose,
                                   curl_sockaddr* address);

class CurlConn final : public Connection, public CurlDriver::Transfer {
 public:
  CurlConn(Engine* engine, CurlDriver* driver, ExchangeOwner* owner);
  ~CurlConn() override;

  void Exchange(const PreparedRequest* request, int64_t intended_ns) override;
  bool busy() const override { return in_flight_; }
  void Interrupt() override;
  void Close() override {}  // libcurl's connection cache owns the socket

  void OnDone(CURLcode result) override;

 private:
  static size_t OnData(char* data, size_t size, size_t n, void* conn);
  static size_t OnHeader(char* data, size_t size, size_t n, void* conn);

  Engine* engine_;
  CurlDriver* driver_;
  ExchangeOwner* owner_;
  CURL* easy_;
  const PreparedRequest* req_ = nullptr;
  ExchangeResult result_;
  int64_t intended_ns_ = 0;
  int64_t sent_ns_ = 0;
  int64_t bytes_in_ = 0;
  bool in_flight_ = false;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_CURL_CONN_H_
