#include "daemon/coordinator/rest_tls.h"

#include <pistache/endpoint.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace loadd {
namespace {

Status Readable(const std::string& path, const char* flag) {
  if (access(path.c_str(), R_OK) != 0) {
    return Status::Invalid(flag, "cannot read " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Status UseTls(const RestOptions& options, Pistache::Http::Endpoint* endpoint) {
  if (options.tls_cert_file.empty()) {
    if (!options.tls_key_file.empty()) {
      return Status::Invalid("--rest-tls-key", "needs --rest-tls-cert too");
    }
    if (!options.tls_ca_file.empty()) {
      return Status::Invalid("--rest-tls-ca",
                             "needs --rest-tls-cert and --rest-tls-key too");
    }
    return Status::Ok();
  }
  if (options.tls_key_file.empty()) {
    return Status::Invalid("--rest-tls-key",
                           "is required with --rest-tls-cert (the PEM private "
                           "key of the certificate)");
  }
  LOADD_RETURN_IF_ERROR(Readable(options.tls_cert_file, "--rest-tls-cert"));
  LOADD_RETURN_IF_ERROR(Readable(options.tls_key_file, "--rest-tls-key"));
  try {
    endpoint->useSSL(options.tls_cert_file, options.tls_key_file);
  } catch (const std::exception& e) {
    return Status::Invalid("--rest-tls-cert",
                           "cannot use certificate " + options.tls_cert_file +
                               " with key " + options.tls_key_file +
                               " (PEM files of one key pair?): " + e.what());
  }
  if (options.tls_ca_file.empty()) return Status::Ok();
  LOADD_RETURN_IF_ERROR(Readable(options.tls_ca_file, "--rest-tls-ca"));
  try {
    endpoint->useSSLAuth(options.tls_ca_file);
  } catch (const std::exception& e) {
    return Status::Invalid("--rest-tls-ca",
                           "cannot use CA file " + options.tls_ca_file + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace loadd
