#include "ctl/credentials.h"

#include <string_view>

namespace loadd {
namespace {

constexpr size_t kMaxTokenFileBytes = 4096;

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  size_t start = s.find_first_not_of(kSpace);
  if (start == std::string_view::npos) return {};
  return s.substr(start, s.find_last_not_of(kSpace) - start + 1);
}

// A token goes into an HTTP header: one word of printable ASCII.
bool IsTokenText(std::string_view token) {
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  return !token.empty();
}

// The TLS files, each named by its flag in errors.
Status ResolveTlsFiles(const CredentialFlags& flags, Files* files, Credentials* out) {
  struct File {
    const char* flag;
    const char* env;
    const std::string& path;
  };
  for (const File& f : {File{"--cacert", "LOADD_CACERT", flags.ca_file},
                        File{"--client-cert", "LOADD_CLIENT_CERT", flags.client_cert},
                        File{"--client-key", "LOADD_CLIENT_KEY", flags.client_key}}) {
    if (!f.path.empty() && !files->Exists(f.path)) {
      return Status::Invalid(f.flag,
                             f.path + ": no such file (" + f.env + " names it too)");
    }
  }
  if (flags.client_cert.empty() != flags.client_key.empty()) {
    return Status::Invalid(flags.client_cert.empty() ? "--client-cert" : "--client-key",
                           "--client-cert and --client-key go together");
  }
  out->ca_file = flags.ca_file;
  out->client_cert = flags.client_cert;
  out->client_key = flags.client_key;
  return Status::Ok();
}

}  // namespace

Result<Credentials> ResolveCredentials(const CredentialFlags& flags,
                                       const char* env_token, Files* files) {
  Credentials credentials;
  LOADD_RETURN_IF_ERROR(ResolveTlsFiles(flags, files, &credentials));
  const std::string& token_file = flags.token_file;
  std::string_view token;
  std::string content;
  if (!token_file.empty()) {
    Result<std::string> read = files->Read(token_file, kMaxTokenFileBytes);
    if (!read.ok()) {
      return Status::Invalid(
          "--token-file",
          read.status().ToString() + " (--token-file or LOADD_TOKEN_FILE names it)");
    }
    content = std::move(*read);
    token = Trim(content);
    credentials.source = "token file " + token_file;
  } else if (env_token != nullptr && *env_token != '\0') {
    token = Trim(env_token);
    credentials.source = "LOADD_TOKEN";
  } else if (Result<std::string> read =
                 files->Read(kDefaultTokenPath, kMaxTokenFileBytes);
             read.ok()) {
    content = std::move(*read);
    token = Trim(content);
    credentials.source = std::string("token file ") + kDefaultTokenPath;
  } else {
    return credentials;  // no token: fine for a coordinator without one
  }
  if (!IsTokenText(token)) {
    return Status::Invalid(
        credentials.source == "LOADD_TOKEN" ? "LOADD_TOKEN" : "--token-file",
        "the " + credentials.source +
            " holds no token (expected one word of printable ASCII, as "
            "`loadd keygen` prints)");
  }
  credentials.token = std::string(token);
  return credentials;
}

std::string UnauthorizedHint(const Credentials& credentials) {
  if (credentials.token.empty()) {
    return "loadctl sent no token: give the coordinator's token with --token-file FILE, "
           "LOADD_TOKEN_FILE=FILE or LOADD_TOKEN (see docs/loadctl.md)";
  }
  return "loadctl sent the token from " + credentials.source +
         ", which the coordinator does not accept; use the token in the coordinator's "
         "--token-file";
}

}  // namespace loadd
