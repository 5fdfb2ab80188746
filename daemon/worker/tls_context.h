// TlsContext: the client side of TLS for one run on the native engine: one
// SSL_CTX built from the plan's $.tls options (CA, client certificate, no
// verification), and the per-connection SSL objects made from it.
//
// Each SSL reads and writes its socket through a BIO of ours: reads are
// recvmsg() calls that keep the kernel's receive stamp (common/rx_stamp.h),
// so a response's latency ends when its last TLS record arrived, exactly as
// on plain HTTP; writes are send(MSG_NOSIGNAL), so a peer that closed never
// raises SIGPIPE.
//
// Loop-thread only (an SSL_CTX is shared read-only by the SSLs it makes).
#ifndef LOADD_DAEMON_WORKER_TLS_CONTEXT_H_
#define LOADD_DAEMON_WORKER_TLS_CONTEXT_H_

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/http_options.h"
#include "common/status.h"

namespace loadd {

// What the socket BIO of one connection works on. Owned by the connection,
// and it must outlive the SSL made on it.
struct TlsIo {
  int fd = -1;
  int64_t* rx_realtime_ns =
      nullptr;  // each read's kernel receive stamp, when there is one
};

class TlsContext {
 public:
  // alpn: the protocols offered, most wanted first (e.g. {"http/1.1"}).
  // verify false: no peer verification whatever the options say (the ALPN
  // probe only asks which protocol a server picks). Errors name the plan's
  // field ($.tls.ca, $.tls.cert, $.tls.key).
  static Result<std::unique_ptr<TlsContext>> Create(const TlsOptions& options,
                                                    const std::vector<std::string>& alpn,
                                                    bool verify = true);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A client SSL for `host` (a name, or an IP literal without brackets)
  // reading and writing through `io`: SNI for names, and unless insecure
  // the peer's certificate must carry `host`. `session`: resume it (may be
  // nullptr). nullptr when OpenSSL is out of memory.
  SSL* NewSsl(TlsIo* io, const std::string& host, SSL_SESSION* session) const;

  SSL_CTX* ctx() const { return ctx_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}

  SSL_CTX* ctx_;
  bool verify_;
};

// Whether `host` is an IPv4 or IPv6 literal (no SNI for those: RFC 6066).
bool IsIpLiteral(const std::string& host);

// OpenSSL's reason for the last failure on this thread ("certificate verify
// failed", ...), and clears its error queue. For logs.
std::string TakeTlsError(const SSL* ssl);

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_TLS_CONTEXT_H_
