// How loadctl proves itself to the coordinator and checks the coordinator's
// certificate (docs/loadctl.md, "Token and TLS").
//
// The bearer token comes from the first of: --token-file FILE (or
// $LOADD_TOKEN_FILE), $LOADD_TOKEN (the token itself, for CI secrets), and
// /etc/loadd/token when it is readable. Without any, requests carry no
// token and a coordinator that needs one answers 401.
#ifndef LOADD_CTL_CREDENTIALS_H_
#define LOADD_CTL_CREDENTIALS_H_

#include <string>

#include "common/status.h"
#include "ctl/files.h"

namespace loadd {

inline constexpr char kDefaultTokenPath[] = "/etc/loadd/token";

struct Credentials {
  std::string token;    // empty: send no Authorization header
  std::string source;   // where the token came from, for messages ("token file /x")
  std::string ca_file;  // PEM CA(s) that sign an https:// coordinator's certificate
  std::string
      client_cert;  // PEM certificate loadctl presents (--rest-tls-ca coordinators)
  std::string client_key;  // its PEM private key
};

// The flags as given; CLI11 fills each from its environment variable when
// the flag is absent.
struct CredentialFlags {
  std::string token_file;   // --token-file, $LOADD_TOKEN_FILE
  std::string ca_file;      // --cacert, $LOADD_CACERT
  std::string client_cert;  // --client-cert, $LOADD_CLIENT_CERT
  std::string client_key;   // --client-key, $LOADD_CLIENT_KEY
};

// env_token: $LOADD_TOKEN (may be null). A named token file that cannot be
// read, or holds no token, is kInvalidArgument naming --token-file; a
// named TLS file that does not exist names its flag, as does a client
// certificate without its key or the other way round.
Result<Credentials> ResolveCredentials(const CredentialFlags& flags,
                                       const char* env_token, Files* files);

// What to tell someone whose request got a 401, given what was sent.
std::string UnauthorizedHint(const Credentials& credentials);

}  // namespace loadd

#endif  // LOADD_CTL_CREDENTIALS_H_
