#include "daemon/worker/tls_test_server.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace loadd {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    ERR_print_errors_fp(stderr);
    std::fprintf(stderr, "tls_test_server: %s failed\n", what);
    std::abort();
  }
}

void AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509* NewCert(EVP_PKEY* key, const std::string& cn, long serial) {  // NOLINT(runtime/int)
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  return cert;
}

std::string MemText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string CertPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  return MemText(bio);
}

std::string KeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  return MemText(bio);
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_len,
               const unsigned char* in, unsigned in_len, void* arg) {
  const std::string& wire = *static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(
          &chosen, out_len, reinterpret_cast<const unsigned char*>(wire.data()),
          static_cast<unsigned>(wire.size()), in, in_len) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

TestCa::TestCa(const std::string& name) {
  key_ = EVP_EC_gen("P-256");
  Check(key_ != nullptr, "EVP_EC_gen");
  cert_ = NewCert(key_, name, serial_++);
  X509_set_issuer_name(cert_, X509_get_subject_name(cert_));
  AddExt(cert_, cert_, NID_basic_constraints, "critical,CA:TRUE");
  AddExt(cert_, cert_, NID_key_usage, "critical,keyCertSign,cRLSign");
  Check(X509_sign(cert_, key_, EVP_sha256()) > 0, "X509_sign");
  cert_pem_ = CertPem(cert_);
}

TestCa::~TestCa() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
}

PemPair TestCa::Issue(const std::string& common_name, const std::string& sans) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "EVP_EC_gen");
  X509* cert = NewCert(key, common_name, serial_++);
  X509_set_issuer_name(cert, X509_get_subject_name(cert_));
  AddExt(cert, cert_, NID_basic_constraints, "CA:FALSE");
  if (!sans.empty()) AddExt(cert, cert_, NID_subject_alt_name, sans);
  Check(X509_sign(cert, key_, EVP_sha256()) > 0, "X509_sign");
  PemPair out{CertPem(cert), KeyPem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

TlsTestServer::TlsTestServer(TlsServerOptions options) : options_(std::move(options)) {}

TlsTestServer::~TlsTestServer() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> conns;
  {
    MutexLock lock(&mu_);
    conns.swap(conns_);
  }
  for (std::thread& t : conns) t.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  SSL_CTX_free(ctx_);
}

bool TlsTestServer::Start() {
  // Its socket BIOs write(2): a client that already left must not kill the test.
  signal(SIGPIPE, SIG_IGN);
  ctx_ = SSL_CTX_new(TLS_server_method());
  BIO* cert_bio = BIO_new_mem_buf(options_.identity.cert.data(), -1);
  BIO* key_bio = BIO_new_mem_buf(options_.identity.key.data(), -1);
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  Check(
      SSL_CTX_use_certificate(ctx_, cert) == 1 && SSL_CTX_use_PrivateKey(ctx_, key) == 1,
      "server certificate");
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  for (const std::string& p : options_.alpn)
    alpn_wire_ += static_cast<char>(p.size()) + p;
  SSL_CTX_set_alpn_select_cb(ctx_, SelectAlpn, &alpn_wire_);
  if (!options_.client_ca.empty()) {
    BIO* ca_bio = BIO_new_mem_buf(options_.client_ca.data(), -1);
    X509* ca = PEM_read_bio_X509(ca_bio, nullptr, nullptr, nullptr);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), ca);
    X509_free(ca);
    BIO_free(ca_bio);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      listen(listen_fd_, 128) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return false;
  }
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void TlsTestServer::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++accepts;
    MutexLock lock(&mu_);
    conns_.emplace_back([this, fd] { Serve(fd); });
  }
}

std::string TlsTestServer::Answer(const std::string& head) const {
  std::string status = "200 OK", extra, body = options_.body;
  if (head.rfind("GET /login ", 0) == 0) {
    extra = "Set-Cookie: sid=s3cret; Secure; Path=/\r\n";
    body = "logged in\n";
  } else if (head.rfind("GET /me ", 0) == 0) {
    bool has = head.find("\r\nCookie: sid=s3cret") != std::string::npos;
    status = has ? "200 OK" : "401 Unauthorized";
    body = has ? "me\n" : "who?\n";
  }
  if (options_.close_after_response) extra += "Connection: close\r\n";
  return "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra + "\r\n" + body;
}

void TlsTestServer::Serve(int fd) {
  timeval tv{0, 20000};  // blocking calls wake up to look at stop_
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, fd);
  int rc;
  while ((rc = SSL_accept(ssl)) != 1 && !stop_ &&
         SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ) {
  }
  if (rc != 1) {
    ++failed_handshakes;
  } else {
    ++handshakes;
    if (SSL_session_reused(ssl)) ++resumed;
    std::string in;
    char buf[4096];
    bool open = true;
    while (open && !stop_) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) {
        if (SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ) continue;
        break;
      }
      in.append(buf, static_cast<size_t>(n));
      for (size_t end; open && (end = in.find("\r\n\r\n")) != std::string::npos;) {
        std::string out = Answer(in.substr(0, end + 2));
        in.erase(0, end + 4);
        ++requests;
        size_t step = options_.record_bytes > 0 ? options_.record_bytes : out.size();
        for (size_t at = 0; at < out.size(); at += step) {
          SSL_write(ssl, out.data() + at,
                    static_cast<int>(std::min(step, out.size() - at)));
        }
        open = !options_.close_after_response;
      }
    }
    SSL_shutdown(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
}

}  // namespace loadd
