#include "daemon/coordinator/token_command.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/bus_auth.h"
#include "common/units.h"
#include "daemon/coordinator/tokens.h"

namespace loadd {
namespace {

struct AddOptions {
  std::string name;
  std::string role;
  std::string file = kDefaultTokensFile;
  std::string max_users, max_rate, max_runs;
};

// Appends `line` to the tokens file at `path` after checking that the file
// is private and valid and that the name is free. The file is locked
// (flock) from the check to the write, so two adds cannot race.
Status AppendToken(const std::string& path, const NamedToken& token) {
  int fd = open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Invalid("--file", path + ": " + std::strerror(errno));
  Status status;
  struct stat st;
  std::string text;
  if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
    status = Status::Invalid("--file", path + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = Status::Invalid("--file", path + " is not a regular file");
  } else if ((st.st_mode & 077) != 0) {
    status = Status::Invalid("--file", path +
                                           " is accessible by group or others; run "
                                           "`chmod 600 " +
                                           path + "` first");
  } else if (st.st_size > static_cast<off_t>(kMaxTokensFileBytes)) {
    status = Status::Invalid("--file", path + " is larger than the coordinator reads");
  } else {
    text.resize(static_cast<size_t>(st.st_size));
    ssize_t n = pread(fd, text.data(), text.size(), 0);
    if (n != static_cast<ssize_t>(text.size())) {
      status = Status::Invalid("--file", "cannot read " + path);
    }
  }
  Result<std::vector<NamedToken>> existing =
      status.ok() ? ParseTokens(text, path, "--file")
                  : Result<std::vector<NamedToken>>(status);
  if (status.ok() && !existing.ok()) status = existing.status();
  if (status.ok()) {
    for (const NamedToken& t : *existing) {
      if (t.name == token.name) {
        status = Status::Invalid("NAME", "a token named \"" + token.name +
                                             "\" is already in " + path +
                                             "; remove its line first to replace it");
      }
    }
  }
  if (status.ok()) {
    std::string line =
        (text.empty() || text.back() == '\n' ? "" : "\n") + FormatTokenLine(token) + "\n";
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
        fsync(fd) != 0) {
      status =
          Status::Invalid("--file", "cannot write " + path + ": " + std::strerror(errno));
    }
  }
  close(fd);
  return status;
}

Status ParseCap(const std::string& text, const char* flag, int64_t* out) {
  if (text.empty()) return Status::Ok();
  Result<int64_t> value = ParseCount(text);
  if (!value.ok() || *value < 1) {
    return Status::Invalid(
        flag, "must be a whole number from 1 (k and M suffixes), got \"" + text + "\"");
  }
  *out = *value;
  return Status::Ok();
}

Status Add(const AddOptions& o) {
  NamedToken token;
  token.name = o.name;
  if (!ValidTokenName(o.name) || o.name == kTokenFileName) {
    return Status::Invalid("NAME",
                           "token name \"" + o.name.substr(0, 80) +
                               "\" must be 1 to 64 of A-Z a-z 0-9 . _ - (and not \"" +
                               kTokenFileName + "\")");
  }
  std::optional<Role> role = RoleFromName(o.role);
  if (!role) return Status::Invalid("--role", "must be admin, runner or viewer");
  token.role = *role;
  LOADD_RETURN_IF_ERROR(ParseCap(o.max_users, "--max-users", &token.caps.max_users));
  LOADD_RETURN_IF_ERROR(ParseCap(o.max_rate, "--max-rate", &token.caps.max_rate));
  LOADD_RETURN_IF_ERROR(ParseCap(o.max_runs, "--max-runs", &token.caps.max_runs));
  Result<std::string> secret = GenerateFleetKey();  // 32 random bytes, hex
  if (!secret.ok()) return secret.status();
  token.digest = Sha256Of(*secret);
  LOADD_RETURN_IF_ERROR(AppendToken(o.file, token));
  std::printf("%s\n", secret->c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "token \"%s\" (role %s) added to %s. The secret above is shown only this "
               "once; the file keeps its SHA-256. Send the coordinator SIGHUP "
               "(systemctl reload loadd-coordinator) to load it.\n",
               token.name.c_str(), RoleName(token.role), o.file.c_str());
  return Status::Ok();
}

}  // namespace

int TokenMain(int argc, char** argv) {
  CLI::App app{"loadd token: named REST tokens with roles (docs/operations.md)",
               "loadd token"};
  app.require_subcommand(1);
  AddOptions o;
  CLI::App* add = app.add_subcommand(
      "add", "append a new token to the tokens file and print its secret once");
  add->add_option("NAME", o.name, "the token's name (1-64 of A-Z a-z 0-9 . _ -)")
      ->required();
  add->add_option("--role", o.role, "admin, runner or viewer")->required();
  add->add_option("--file", o.file, "the tokens file (the coordinator's --tokens-file)")
      ->capture_default_str();
  add->add_option("--max-users", o.max_users, "cap: users (or in flight) per run");
  add->add_option("--max-rate", o.max_rate, "cap: arrivals per second per run");
  add->add_option("--max-runs", o.max_runs, "cap: runs of this token active at once");
  CLI11_PARSE(app, argc, argv);
  Status status = Add(o);
  if (!status.ok()) {
    std::fprintf(stderr, "loadd token add: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace loadd
