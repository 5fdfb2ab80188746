// Connection: one virtual user's HTTP connection, doing one request at a
// time for whoever owns it (a closed-model user, or an open-model arrival).
// Implementations: HttpConn (native HTTP/1.1) and CurlConn (libcurl).
// Loop-thread only.
#ifndef LOADD_DAEMON_WORKER_CONNECTION_H_
#define LOADD_DAEMON_WORKER_CONNECTION_H_

#include <cstddef>
#include <cstdint>

namespace loadd {

class Connection;

class ExchangeOwner {
 public:
  virtual ~ExchangeOwner() = default;
  // The request has been counted (response, failure or timeout) and the
  // connection is idle again. May call Exchange() at once.
  virtual void OnExchangeDone(Connection* conn) = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Sends request number `request` of the engine's prepared requests.
  // intended_ns > 0 (open model): latency counts from that moment, and the
  // time from sending is recorded apart as service time.
  virtual void Exchange(size_t request, int64_t intended_ns) = 0;
  virtual bool busy() const = 0;
  // If busy, counts the request as interrupted (no callback). Closes.
  virtual void Interrupt() = 0;
  // Closes an idle connection (its user is leaving).
  virtual void Close() = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_CONNECTION_H_
