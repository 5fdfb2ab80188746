// TLS for the fleet bus (tls+tcp:// URLs), shared by both ends, and the
// small nng helpers both ends need for clear logs.
//
// TLS hides the bus from eavesdroppers and lets workers check they reached
// the real coordinator (its certificate against --bus-tls-ca). Workers still
// prove membership with the fleet key on top (common/bus_auth.h); a client
// certificate is optional and only asked for when the coordinator has a CA.
#ifndef LOADD_COMMON_BUS_TLS_H_
#define LOADD_COMMON_BUS_TLS_H_

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include <string>

#include "common/status.h"

namespace loadd {

struct BusTlsOptions {
  std::string cert_file;    // --bus-tls-cert: our PEM certificate (chain)
  std::string key_file;     // --bus-tls-key: its PEM private key
  std::string ca_file;      // --bus-tls-ca: PEM CA(s) that sign the peer's certificate
  std::string server_name;  // worker: name the coordinator's certificate must carry
                            // (default: the host of the bus URL)
  bool any() const {
    return !cert_file.empty() || !key_file.empty() || !ca_file.empty() ||
           !server_name.empty();
  }
};

bool IsTlsUrl(const std::string& url);

// Checks which files this end needs for `url` and builds the nng TLS
// configuration: nullptr (and OK) for a plain tcp:// bus. The caller frees
// the result with nng_tls_config_free once set on its listener or dialer.
// Errors name the flag and the file.
//   coordinator (`server`): cert and key required; with a CA, workers must
//     present a certificate it signed.
//   worker: CA required (the coordinator's certificate is always verified);
//     cert and key optional, both or neither.
Result<nng_tls_config*> MakeBusTlsConfig(const std::string& url,
                                         const BusTlsOptions& options, bool server);

// The remote address of a pipe as "HOST:PORT" ("?" when unknown).
std::string PipePeerAddress(nng_pipe pipe);

}  // namespace loadd

#endif  // LOADD_COMMON_BUS_TLS_H_
