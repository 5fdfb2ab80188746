// How workers speak HTTP for a plan: cookies kept per user, the HTTP
// version, and TLS settings. Part of the plan ($.cookies, $.http_version,
// $.tls); read by the plan parser with errors naming the JSON path.
//
// PEM files travel inline like data files: loadctl replaces
// {"file": "ca.pem"} by {"name": "ca.pem", "content": "-----BEGIN ..."}, so
// workers never read the operator's disk.
#ifndef LOADD_COMMON_HTTP_OPTIONS_H_
#define LOADD_COMMON_HTTP_OPTIONS_H_

#include <string>

#include "common/json.h"
#include "common/json_reader.h"
#include "common/status.h"
#include "common/url.h"

namespace loadd {

struct PemFile {
  static constexpr size_t kMaxBytes = 64 << 10;
  std::string name;     // for messages
  std::string content;  // PEM text; empty: not given
  bool empty() const { return content.empty(); }
};

struct TlsOptions {
  PemFile ca;             // trust these CAs instead of the system's
  PemFile cert;           // client certificate (with key)
  PemFile key;            // its private key
  bool insecure = false;  // no peer or host name verification
};

struct HttpOptions {
  enum class Version { kAuto, kHttp11, kHttp2 };
  bool cookies = true;  // scenarios: each user keeps its own cookie jar
  Version version = Version::kAuto;
  TlsOptions tls;

  // Whether these options need libcurl (the native path speaks HTTP/1.1
  // only, over TLS too): HTTP/2 asked for. With kAuto the worker probes
  // each https:// host before the run (daemon/worker/tls_probe.h).
  bool NeedsCurl() const;
};

// Reads $.cookies, $.http_version and $.tls from the plan object.
Status ReadHttpOptions(ObjectReader* r, HttpOptions* out);
// Writes the same fields (only those that differ from the defaults).
void WriteHttpOptions(const HttpOptions& options, JsonWriter* w);

const char* HttpVersionName(HttpOptions::Version v);

// With http_version "2", every URL must be https:// (at: the URL's JSON path).
Status CheckHttpVersionFor(const HttpOptions& options, const Url& url,
                           const std::string& at);

}  // namespace loadd

#endif  // LOADD_COMMON_HTTP_OPTIONS_H_
