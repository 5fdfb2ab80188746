// `loadd token add NAME --role ROLE [--file F] [--max-users N] [--max-rate N]
// [--max-runs N]`: a new named REST token. Appends its line (name, role,
// SHA-256 of the secret, caps; tokens.h) to the tokens file, creating it
// with mode 0600, and prints the secret once on stdout: it is stored
// nowhere. The coordinator loads the new line on SIGHUP.
#ifndef LOADD_DAEMON_COORDINATOR_TOKEN_COMMAND_H_
#define LOADD_DAEMON_COORDINATOR_TOKEN_COMMAND_H_

namespace loadd {
// argv[0] is "token".
int TokenMain(int argc, char** argv);
}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_TOKEN_COMMAND_H_
