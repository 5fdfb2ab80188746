#include "daemon/coordinator/auth.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace loadd {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string HowToCreate(const std::string& path) {
  return "create one with `(umask 077; loadd keygen > " + path + ")`, or point " +
         "--token-file (LOADD_TOKEN_FILE, token-file in the config file) at another file";
}

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Result<std::string> ReadPrivateFile(const std::string& path, const std::string& flag,
                                    const PrivateFileRules& rules) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return Status::Invalid(flag, "cannot read " + rules.what + " " + path + ": " +
                                     std::strerror(errno) + "; " + rules.how_to_create);
  }
  struct stat st;
  std::string content;
  Status status;
  if (fstat(fd, &st) != 0) {
    status = Status::Invalid(flag, "cannot stat " + path + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status =
        Status::Invalid(flag, path + " is not a regular file; " + rules.how_to_create);
  } else if ((st.st_mode & 077) != 0) {
    status =
        Status::Invalid(flag, path + " is accessible by group or others (mode " +
                                  ModeText(st.st_mode) + "); run `chmod 600 " + path +
                                  "` so only the coordinator's user can read it");
  } else if (st.st_size > static_cast<off_t>(rules.max_bytes)) {
    status = Status::Invalid(flag, path + " is larger than " +
                                       std::to_string(rules.max_bytes) + " bytes" +
                                       rules.too_large_hint);
  } else {
    std::string buf(64 * 1024, '\0');
    ssize_t n;
    while ((n = read(fd, buf.data(), buf.size())) > 0 &&
           content.size() <= rules.max_bytes) {
      content.append(buf.data(), static_cast<size_t>(n));
    }
    if (n < 0)
      status = Status::Invalid(flag, "cannot read " + path + ": " + std::strerror(errno));
    else if (content.size() > rules.max_bytes)
      status = Status::Invalid(
          flag, path + " is larger than " + std::to_string(rules.max_bytes) + " bytes");
  }
  close(fd);
  if (!status.ok()) return status;
  return content;
}

Result<std::string> ReadTokenFile(const std::string& path, const std::string& flag) {
  if (path.empty())
    return Status::Invalid(flag, "is empty; " + HowToCreate(kDefaultTokenFile));
  Result<std::string> content = ReadPrivateFile(
      path, flag,
      PrivateFileRules{"the REST token file", HowToCreate(path), kMaxTokenBytes,
                       ": it should hold one token; " + HowToCreate(path)});
  if (!content.ok()) return content.status();
  std::string_view token = Trim(*content);
  if (token.size() > kMaxTokenBytes) {
    return Status::Invalid(
        flag, path + " is larger than " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Status::Invalid(flag, "the token in " + path +
                                       " has a space, control or non-ASCII character; "
                                       "tokens are one word of printable ASCII (" +
                                       HowToCreate(path) + ")");
    }
  }
  if (token.size() < kMinTokenBytes) {
    return Status::Invalid(
        flag, "the token in " + path + " has " + std::to_string(token.size()) +
                  " characters; use at least " + std::to_string(kMinTokenBytes) +
                  " (`loadd keygen` prints 64): " + HowToCreate(path));
  }
  return std::string(token);
}

void BearerAuth::SetToken(std::string_view token) {
  SetTokens({NamedToken{kTokenFileName, Role::kAdmin, Sha256Of(token), {}}});
}

void BearerAuth::SetTokens(std::vector<NamedToken> tokens) {
  MutexLock lock(&mu_);
  tokens_.swap(tokens);
}

std::optional<TokenIdentity> BearerAuth::Identify(std::string_view authorization) const {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  std::string_view presented = Trim(authorization.substr(kScheme.size()));
  if (presented.empty() || presented.size() > kMaxTokenBytes) return std::nullopt;
  // Hash first: every comparison then runs over 32 bytes whatever was sent,
  // and all of them run (hashes are unique, so at most one matches).
  TokenDigest digest = Sha256Of(presented);
  MutexLock lock(&mu_);
  size_t found = tokens_.size();
  for (size_t i = 0; i < tokens_.size(); ++i) {
    int diff = CRYPTO_memcmp(digest.data(), tokens_[i].digest.data(), digest.size());
    size_t mask = static_cast<size_t>(0) - static_cast<size_t>(diff == 0);
    found = (i & mask) | (found & ~mask);
  }
  if (found == tokens_.size()) return std::nullopt;
  const NamedToken& token = tokens_[found];
  return TokenIdentity{token.name, token.role, token.caps};
}

int64_t LogThrottle::Admit() {
  int64_t now = clock_->NowNs();
  MutexLock lock(&mu_);
  if (logged_ && now - last_log_ns_ < interval_ns_) {
    ++suppressed_;
    return 0;
  }
  logged_ = true;
  last_log_ns_ = now;
  int64_t report = suppressed_ + 1;
  suppressed_ = 0;
  return report;
}

}  // namespace loadd
