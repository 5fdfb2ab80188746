#include "common/bus_tls.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace loadd {
namespace {

constexpr size_t kMaxPemBytes = 1 << 20;

// The host part of "tls+tcp://HOST:PORT" ("[v6]" unbracketed).
std::string UrlHost(const std::string& url) {
  size_t start = url.find("://");
  if (start == std::string::npos) return "";
  std::string rest = url.substr(start + 3);
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    return close == std::string::npos ? "" : rest.substr(1, close - 1);
  }
  return rest.substr(0, rest.rfind(':'));
}

Result<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::Invalid(flag, "cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream out;
  out << in.rdbuf();
  std::string pem = out.str();
  if (pem.size() > kMaxPemBytes)
    return Status::Invalid(flag, path + " is larger than 1 MiB");
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return Status::Invalid(flag, path + " holds no PEM block (-----BEGIN ...-----)");
  }
  return pem;
}

Status NngTls(const char* flag, const std::string& what, int rv) {
  return Status::Invalid(flag, what + ": " + nng_strerror(rv));
}

Status Configure(nng_tls_config* cfg, const std::string& url, const BusTlsOptions& o,
                 bool server) {
  int rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3);
  if (rv != 0) rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_2);
  if (rv != 0) return NngTls("--bus", "cannot require TLS 1.2 or newer", rv);
  if (!o.cert_file.empty()) {
    Result<std::string> cert = ReadPem(o.cert_file, "--bus-tls-cert");
    if (!cert.ok()) return cert.status();
    Result<std::string> key = ReadPem(o.key_file, "--bus-tls-key");
    if (!key.ok()) return key.status();
    rv = nng_tls_config_own_cert(cfg, cert->c_str(), key->c_str(), nullptr);
    if (rv != 0) {
      return NngTls("--bus-tls-cert",
                    "cannot use certificate " + o.cert_file + " with key " + o.key_file +
                        " (PEM, unencrypted, matching pair?)",
                    rv);
    }
  }
  if (!o.ca_file.empty()) {
    Result<std::string> ca = ReadPem(o.ca_file, "--bus-tls-ca");
    if (!ca.ok()) return ca.status();
    rv = nng_tls_config_ca_chain(cfg, ca->c_str(), nullptr);
    if (rv != 0) return NngTls("--bus-tls-ca", "cannot use CA file " + o.ca_file, rv);
  }
  nng_tls_auth_mode mode =
      !o.ca_file.empty() ? NNG_TLS_AUTH_MODE_REQUIRED : NNG_TLS_AUTH_MODE_NONE;
  rv = nng_tls_config_auth_mode(cfg, mode);
  if (rv != 0) return NngTls("--bus-tls-ca", "cannot set the TLS verification mode", rv);
  if (!server) {
    std::string name = o.server_name.empty() ? UrlHost(url) : o.server_name;
    rv = nng_tls_config_server_name(cfg, name.c_str());
    if (rv != 0)
      return NngTls("--bus-tls-server-name", "cannot set \"" + name + "\"", rv);
  }
  return Status::Ok();
}

}  // namespace

bool IsTlsUrl(const std::string& url) { return url.rfind("tls+", 0) == 0; }

Result<nng_tls_config*> MakeBusTlsConfig(const std::string& url, const BusTlsOptions& o,
                                         bool server) {
  const char* bus_flag = server ? "--bus" : "--coordinator";
  if (!IsTlsUrl(url)) {
    if (o.any()) {
      return Status::Invalid(
          o.cert_file.empty()
              ? (o.ca_file.empty() ? "--bus-tls-server-name" : "--bus-tls-ca")
              : "--bus-tls-cert",
          std::string("TLS files are set but ") + bus_flag + " " + url +
              " is not a tls+tcp:// URL; use tls+tcp://HOST:PORT, or drop "
              "the --bus-tls-* settings");
    }
    return static_cast<nng_tls_config*>(nullptr);
  }
  if (o.cert_file.empty() != o.key_file.empty()) {
    return Status::Invalid(
        o.cert_file.empty() ? "--bus-tls-cert" : "--bus-tls-key",
        "--bus-tls-cert and --bus-tls-key go together: give both or neither");
  }
  if (server && o.cert_file.empty()) {
    return Status::Invalid("--bus-tls-cert",
                           std::string("a tls+tcp:// bus (") + bus_flag + " " + url +
                               ") needs the coordinator's certificate "
                               "and key: --bus-tls-cert and --bus-tls-key");
  }
  if (!server && o.ca_file.empty()) {
    return Status::Invalid("--bus-tls-ca",
                           std::string("a tls+tcp:// bus (") + bus_flag + " " + url +
                               ") needs --bus-tls-ca: the CA certificate "
                               "that signed the coordinator's certificate");
  }
  if (server && !o.server_name.empty()) {
    return Status::Invalid("--bus-tls-server-name",
                           "is a worker setting (the name the "
                           "coordinator's certificate must carry)");
  }
  nng_tls_config* cfg = nullptr;
  int rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT);
  if (rv != 0) {
    return Status(StatusCode::kInternal,
                  std::string("TLS is not available in this nng build (engine ") +
                      nng_tls_engine_name() + "): " + nng_strerror(rv));
  }
  Status st = Configure(cfg, url, o, server);
  if (!st.ok()) {
    nng_tls_config_free(cfg);
    return st;
  }
  return cfg;
}

std::string PipePeerAddress(nng_pipe pipe) {
  nng_sockaddr sa;
  if (nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) != 0) return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  switch (sa.s_family) {
    case NNG_AF_INET:
      inet_ntop(AF_INET, &sa.s_in.sa_addr, host, sizeof host);
      return std::string(host) + ":" + std::to_string(ntohs(sa.s_in.sa_port));
    case NNG_AF_INET6:
      inet_ntop(AF_INET6, sa.s_in6.sa_addr, host, sizeof host);
      return "[" + std::string(host) + "]:" + std::to_string(ntohs(sa.s_in6.sa_port));
    case NNG_AF_IPC:
    case NNG_AF_ABSTRACT:
      return "local";
    default:
      return "?";
  }
}

}  // namespace loadd
