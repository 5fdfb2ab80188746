#include "daemon/worker/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/rx_stamp.h"

namespace loadd {
namespace {

// --- The socket BIO ---------------------------------------------------------

int SocketRead(BIO* bio, char* buf, int size) {
  auto* io = static_cast<TlsIo*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  RxStampBuffer control;
  for (;;) {
    iovec iov{buf, static_cast<size_t>(size)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    control.Attach(&msg);
    ssize_t n = recvmsg(io->fd, &msg, 0);
    if (n > 0) {
      int64_t stamp = RxStampRealtimeNs(msg);
      if (stamp != 0 && io->rx_realtime_ns != nullptr) *io->rx_realtime_ns = stamp;
      return static_cast<int>(n);
    }
    if (n == 0) return 0;  // EOF
    if (errno == EINTR) continue;
    if (errno == EAGAIN) BIO_set_retry_read(bio);
    return -1;
  }
}

int SocketWrite(BIO* bio, const char* buf, int size) {
  auto* io = static_cast<TlsIo*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  for (;;) {
    ssize_t n = send(io->fd, buf, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) BIO_set_retry_write(bio);
    return -1;
  }
}

long SocketCtrl(BIO*, int cmd, long, void*) {  // NOLINT(runtime/int): OpenSSL's type
  // Writes go straight to the socket: nothing to flush. Everything else
  // (ktls, dgram, pending) is not supported, which OpenSSL reads as 0.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int SocketCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* SocketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "loadd socket");
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_ctrl(m, SocketCtrl);
    BIO_meth_set_create(m, SocketCreate);
    return m;
  }();
  return method;
}

// --- PEM in memory ----------------------------------------------------------

// Never prompts on a terminal for an encrypted key's pass phrase.
int NoPassword(char*, int, int, void*) { return 0; }

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr MemBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

Status LoadCa(SSL_CTX* ctx, const PemFile& ca) {
  BioPtr bio = MemBio(ca.content);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  ERR_clear_error();  // the read that ended the loop
  if (added == 0) {
    return Status::Invalid("$.tls.ca", "no certificate could be read from " + ca.name +
                                           "; give the CA certificate(s) in PEM");
  }
  return Status::Ok();
}

Status LoadClientCert(SSL_CTX* ctx, const TlsOptions& tls) {
  BioPtr bio = MemBio(tls.cert.content);
  X509* cert = PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr);
  if (cert == nullptr || SSL_CTX_use_certificate(ctx, cert) != 1) {
    X509_free(cert);
    ERR_clear_error();
    return Status::Invalid("$.tls.cert", "no certificate could be read from " +
                                             tls.cert.name +
                                             "; give the client certificate in PEM");
  }
  X509_free(cert);
  // Intermediate certificates after the first one are sent along.
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) X509_free(extra);
  }
  ERR_clear_error();
  BioPtr key_bio = MemBio(tls.key.content);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassword, nullptr);
  if (key == nullptr) {
    ERR_clear_error();
    return Status::Invalid("$.tls.key",
                           "no private key could be read from " + tls.key.name +
                               " (encrypted keys are not supported: decrypt it "
                               "with `openssl pkey`)");
  }
  int used = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Status::Invalid("$.tls.key", tls.key.name +
                                            " is not the private key of the "
                                            "certificate in $.tls.cert (" +
                                            tls.cert.name + ")");
  }
  return Status::Ok();
}

std::string AlpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& p : protocols) {
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  return wire;
}

}  // namespace

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string TakeTlsError(const SSL* ssl) {
  std::string out;
  if (ssl != nullptr) {
    long verify = SSL_get_verify_result(ssl);  // NOLINT(runtime/int)
    if (verify != X509_V_OK) out = X509_verify_cert_error_string(verify);
  }
  unsigned long e = ERR_get_error();  // NOLINT(runtime/int)
  if (out.empty() && e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out.empty() ? "connection closed during the handshake" : out;
}

Result<std::unique_ptr<TlsContext>> TlsContext::Create(
    const TlsOptions& options, const std::vector<std::string>& alpn, bool verify) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Status(StatusCode::kInternal, "SSL_CTX_new failed");
  std::unique_ptr<TlsContext> out(new TlsContext(ctx, verify && !options.insecure));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Buffers go back to the heap while a connection is idle (memory per
  // user); a partial write leaves the rest for the next EPOLLOUT.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A response delimited by the connection's close ends at EOF, whether or
  // not the server sent close_notify first.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Whole socket reads rather than a header then a record at a time.
  SSL_CTX_set_read_ahead(ctx, 1);
  std::string wire = AlpnWire(alpn);
  if (!wire.empty() &&
      SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned>(wire.size())) != 0) {
    return Status(StatusCode::kInternal, "SSL_CTX_set_alpn_protos failed");
  }
  if (out->verify_) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!options.ca.empty()) {
      LOADD_RETURN_IF_ERROR(LoadCa(ctx, options.ca));
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      ERR_clear_error();
      return Status(StatusCode::kFailedPrecondition,
                    "cannot load the system's CA certificates; give $.tls.ca or install "
                    "ca-certificates");
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.cert.empty()) LOADD_RETURN_IF_ERROR(LoadClientCert(ctx, options));
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

SSL* TlsContext::NewSsl(TlsIo* io, const std::string& host, SSL_SESSION* session) const {
  SSL* ssl = SSL_new(ctx_);
  BIO* bio = BIO_new(SocketMethod());
  if (ssl == nullptr || bio == nullptr) {
    SSL_free(ssl);
    BIO_free(bio);
    ERR_clear_error();
    return nullptr;
  }
  BIO_set_data(bio, io);
  SSL_set_bio(ssl, bio, bio);
  bool ip = IsIpLiteral(host);
  if (!ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (verify_) {
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    } else {
      SSL_set1_host(ssl, host.c_str());
    }
  }
  if (session != nullptr) SSL_set_session(ssl, session);
  SSL_set_connect_state(ssl);
  return ssl;
}

}  // namespace loadd
