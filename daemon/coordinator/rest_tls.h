// HTTPS for the REST API (Pistache's OpenSSL support).
//
// Pistache 0.0.5 runs each TLS handshake on its one accept thread, reading
// with a fixed 10 s socket timeout: a client that connects and stalls its
// handshake holds new connections back for up to 10 s per stall
// (docs/operations.md says what that means for exposing HTTPS REST).
#ifndef LOADD_DAEMON_COORDINATOR_REST_TLS_H_
#define LOADD_DAEMON_COORDINATOR_REST_TLS_H_

#include "common/status.h"
#include "daemon/coordinator/rest_api.h"

namespace loadd {

// With options.tls_cert_file set, makes the endpoint serve HTTPS with that
// certificate and key, and with tls_ca_file, require client certificates
// signed by that CA. Call after init, before serving. Errors name the flag
// and file at fault.
Status UseTls(const RestOptions& options, Pistache::Http::Endpoint* endpoint);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_TLS_H_
