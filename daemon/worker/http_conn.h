// HttpConn: a connection on the native HTTP/1.1 path: its own non-blocking
// keep-alive socket on edge-triggered epoll, the request written whole from
// bytes prepared once per plan, the response parsed by http_parser from the
// engine's shared read buffer (so an idle connection costs no buffer).
//
// https:// runs the same way over OpenSSL (daemon/worker/tls_context.h):
// after the TCP connect a handshake state, then SSL_write/SSL_read in place
// of send/recvmsg. The handshake counts into the first request's latency,
// as the TCP connect does. A failed handshake (certificate refused, no
// common protocol) is a connect error, as it is on libcurl.
#ifndef LOADD_DAEMON_WORKER_HTTP_CONN_H_
#define LOADD_DAEMON_WORKER_HTTP_CONN_H_

#include <http_parser.h>
#include <openssl/ssl.h>
#include <sys/types.h>

#include <cstdint>

#include "common/wire.h"
#include "daemon/worker/connection.h"
#include "daemon/worker/event_loop.h"
#include "daemon/worker/tls_context.h"

namespace loadd {

class Engine;

class HttpConn final : public Connection, public IoHandler, public TimerHandler {
 public:
  HttpConn(Engine* engine, ExchangeOwner* owner);
  ~HttpConn() override;

  void Exchange(const PreparedRequest* request, int64_t intended_ns) override;
  bool busy() const override { return state_ != State::kIdle; }
  void Interrupt() override;
  void Close() override;

  void OnIo(uint32_t events) override;
  void OnTimer() override;  // request timeout

 private:
  enum class State { kIdle, kConnecting, kHandshake, kWriting, kReading };
  // ReadSome/WriteSome: bytes moved (> 0), 0 at EOF (reads), or one of these.
  static constexpr ssize_t kWouldBlock = -1;
  static constexpr ssize_t kIoError = -2;

  void Connect();
  void Connected();
  void Handshake();
  void Send();
  ssize_t ReadSome(char* buf, size_t size);
  ssize_t WriteSome(const char* buf, size_t size);
  void ContinueWrite();
  void Read();
  void Complete();
  void Fail(ErrorKind kind);
  void Done();
  void CloseSocket();
  int64_t TimeoutNs() const;

  bool RetryOnFreshConnection();

  static int OnHeadersComplete(http_parser* p);
  static int OnMessageComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t len);
  static int OnHeaderField(http_parser* p, const char* at, size_t len);
  static int OnHeaderValue(http_parser* p, const char* at, size_t len);

  Engine* engine_;
  ExchangeOwner* owner_;
  Timer timer_;
  State state_ = State::kIdle;
  int fd_ = -1;
  int address_ = -1;                // what fd_ is connected to (engine address index)
  SSL* ssl_ = nullptr;              // https:// only
  bool read_wants_write_ = false;   // SSL_read last stopped on SSL_ERROR_WANT_WRITE
  SSL_SESSION* session_ = nullptr;  // to resume on the next connection to address_
  TlsIo tls_io_;
  bool reused_ = false;   // the socket served a request before
  bool retried_ = false;  // this request was already resent once
  const PreparedRequest* req_ = nullptr;
  int64_t intended_ns_ = 0;
  ExchangeResult result_;
  std::string header_field_;  // the header being parsed (lower case)
  bool header_wanted_ = false;
  size_t written_ = 0;
  int64_t sent_ns_ = 0;
  int64_t bytes_in_ = 0;
  int64_t rx_realtime_ns_ = 0;  // kernel receive stamp of the last segment read
  bool message_complete_ = false;
  http_parser parser_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_HTTP_CONN_H_
