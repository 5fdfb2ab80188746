// Connection: one virtual user's HTTP connection, doing one request at a
// time for whoever owns it (a closed-model user, or an open-model arrival).
// Implementations: HttpConn (native HTTP/1.1) and CurlConn (libcurl).
// Loop-thread only.
#ifndef LOADD_DAEMON_WORKER_CONNECTION_H_
#define LOADD_DAEMON_WORKER_CONNECTION_H_

#include <curl/curl.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace loadd {

class Connection;

// A request ready to send. The engine prepares one per plan request once;
// a scenario step is rendered into one per exchange (ScenarioRunner).
struct PreparedRequest {
  std::string bytes;       // native path: the whole request, headers and body
  int address = 0;         // native path: index into the engine's addresses
  bool head = false;       // a response to HEAD has no body
  int slot = 0;            // RunStats slot (the request's or step's name)
  int64_t timeout_ns = 0;  // 0: the plan's
  // libcurl path.
  std::string url;
  std::string method;
  std::string body;
  bool has_body = false;
  curl_slist* curl_headers = nullptr;  // owned by whoever owns this request
  // What the owner needs back from the response.
  bool capture_body = false;                 // up to 1 MiB
  std::vector<std::string> capture_headers;  // lower-case names
};

// The response as the owner sees it, valid during OnExchangeDone.
struct ExchangeResult {
  bool ok = false;  // a complete response arrived (any status)
  int status = 0;
  int64_t latency_us = 0;
  std::string body;                                          // if capture_body
  std::vector<std::pair<std::string, std::string>> headers;  // captured ones
};

class ExchangeOwner {
 public:
  virtual ~ExchangeOwner() = default;
  // The request has been counted (response, failure or timeout) and the
  // connection is idle again. May call Exchange() at once.
  virtual void OnExchangeDone(Connection* conn, const ExchangeResult& result) = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Sends `request` (which must stay valid until OnExchangeDone).
  // intended_ns > 0 (open model): latency counts from that moment, and the
  // time from sending is recorded apart as service time.
  virtual void Exchange(const PreparedRequest* request, int64_t intended_ns) = 0;
  virtual bool busy() const = 0;
  // If busy, counts the request as interrupted (no callback). Closes.
  virtual void Interrupt() = 0;
  // Closes an idle connection (its user is leaving).
  virtual void Close() = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_CONNECTION_H_
