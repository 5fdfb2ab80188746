// loadd: one binary, a table of roles. `loadd worker`, `loadd coordinator`,
// `loadd target`, `loadd keygen`, `loadd token`.
#include <cstdio>
#include <cstring>

#include "common/bus_auth.h"
#include "daemon/coordinator/coordinator_main.h"
#include "daemon/coordinator/token_command.h"
#include "daemon/target/target_main.h"
#include "daemon/worker/worker_main.h"

namespace {

// `loadd keygen`: a new fleet key on stdout, for
// `(umask 077; loadd keygen > /etc/loadd/fleet.key)`.
int KeygenMain(int argc, char** argv) {
  if (argc > 1) {
    bool help = std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0;
    std::fprintf(
        help ? stdout : stderr,
        "usage: loadd keygen > FILE\n\nPrints a new fleet key: 64 hex characters "
        "from the OpenSSL random generator.\nEvery coordinator and worker of a fleet "
        "reads the same key (--fleet-key-file, mode 600):\n  (umask 077; loadd "
        "keygen > %s)\n",
        loadd::kDefaultFleetKeyFile);
    return help ? 0 : 2;
  }
  loadd::Result<std::string> key = loadd::GenerateFleetKey();
  if (!key.ok()) {
    std::fprintf(stderr, "loadd keygen: %s\n", key.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", key->c_str());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

struct Role {
  const char* name;
  int (*main)(int argc, char** argv);
  const char* help;
};

constexpr Role kRoles[] = {
    {"worker", loadd::WorkerMain, "generate load for a coordinator (one per CPU core)"},
    {"coordinator", loadd::CoordinatorMain,
     "run the fleet: REST API, workers, merged stats"},
    {"target", loadd::TargetMain, "a small HTTP server to aim tests and demos at"},
    {"keygen", KeygenMain, "print a new fleet key (loadd keygen > /etc/loadd/fleet.key)"},
    {"token", loadd::TokenMain,
     "add a named REST token (loadd token add NAME --role runner) and print it once"},
};

int Usage(FILE* out) {
  std::fprintf(out,
               "usage: loadd ROLE [flags]   (loadd ROLE --help for flags)\n\nroles:\n");
  for (const Role& r : kRoles) std::fprintf(out, "  %-12s %s\n", r.name, r.help);
  std::fprintf(out, "\nloadd %s\n", LOADD_VERSION);
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage(stderr);
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)
    return Usage(stdout);
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("loadd %s\n", LOADD_VERSION);
    return 0;
  }
  for (const Role& r : kRoles) {
    if (std::strcmp(argv[1], r.name) == 0) return r.main(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "loadd: unknown role \"%s\"\n\n", argv[1]);
  return Usage(stderr);
}
