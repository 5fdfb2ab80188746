// ProbeAlpn: which application protocol a TLS server picks when offered
// "h2" and "http/1.1", found with one bounded, blocking handshake. The
// engine asks this once per https:// host before a run (Engine::Prepare) to
// keep the promise "HTTP/2 where the target offers it" while running every
// other https:// target on the native HTTP/1.1 engine.
#ifndef LOADD_DAEMON_WORKER_TLS_PROBE_H_
#define LOADD_DAEMON_WORKER_TLS_PROBE_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "common/status.h"
#include "daemon/worker/tls_context.h"

namespace loadd {

// `probe` must offer h2 and http/1.1 (TlsContext::Create with verify
// false: a certificate the run would refuse still tells the protocol).
// Returns "h2", "http/1.1", or "" when the server picked none (or the
// handshake failed before it said). An error when no TCP connection was
// made within timeout_ms; the whole probe never takes longer than that.
Result<std::string> ProbeAlpn(const TlsContext& probe, const sockaddr* addr,
                              socklen_t len, const std::string& host, int64_t timeout_ms);

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_TLS_PROBE_H_
