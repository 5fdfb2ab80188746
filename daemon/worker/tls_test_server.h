// Test-only: certificates made with the OpenSSL API at test time, and a tiny
// blocking HTTPS/1.1 server on 127.0.0.1 (a thread per connection) that
// counts what the engine's connections do to it.
#ifndef LOADD_DAEMON_WORKER_TLS_TEST_SERVER_H_
#define LOADD_DAEMON_WORKER_TLS_TEST_SERVER_H_

#include <openssl/ssl.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace loadd {

struct PemPair {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (P-256)
};

// A throwaway certificate authority.
class TestCa {
 public:
  explicit TestCa(const std::string& name);
  ~TestCa();
  // A certificate it signs; sans as in openssl's subjectAltName
  // ("IP:127.0.0.1,DNS:localhost").
  PemPair Issue(const std::string& common_name, const std::string& sans);
  const std::string& cert_pem() const { return cert_pem_; }

 private:
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  std::string cert_pem_;
  long serial_ = 1;  // NOLINT(runtime/int): OpenSSL's type
};

struct TlsServerOptions {
  PemPair identity;                              // the server's certificate and key
  std::vector<std::string> alpn = {"http/1.1"};  // what it accepts, in its order
  std::string client_ca;    // non-empty: require a client certificate it signed
  size_t record_bytes = 0;  // > 0: each response in TLS records this small
  std::string body = "hello over tls\n";
  bool close_after_response = false;  // "Connection: close" and close
};

// GET /login answers with a Secure cookie "sid=s3cret"; GET /me answers 200
// when that cookie comes back, else 401; anything else answers `body`.
class TlsTestServer {
 public:
  explicit TlsTestServer(TlsServerOptions options);
  ~TlsTestServer();  // stops and joins every thread
  bool Start();      // false when it cannot listen
  int port() const { return port_; }

  std::atomic<int> accepts{0};     // TCP connections
  std::atomic<int> handshakes{0};  // completed TLS handshakes
  std::atomic<int> resumed{0};     // of which resumed a session
  std::atomic<int> failed_handshakes{0};
  std::atomic<int> requests{0};

 private:
  void AcceptLoop();
  void Serve(int fd);
  std::string Answer(const std::string& head) const;

  TlsServerOptions options_;
  SSL_CTX* ctx_ = nullptr;
  std::string alpn_wire_;  // options_.alpn in ALPN's wire form
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  Mutex mu_;
  std::vector<std::thread> conns_ GUARDED_BY(mu_);
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_TLS_TEST_SERVER_H_
