#include "daemon/coordinator/tokens.h"

#include <openssl/evp.h>

#include <cstdio>
#include <map>

#include "common/json.h"
#include "common/units.h"
#include "daemon/coordinator/auth.h"

namespace loadd {
namespace {

constexpr std::string_view kHashPrefix = "sha256:";

std::string FormatNumber(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  return buf;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<TokenDigest> ParseDigest(std::string_view text) {
  if (text.substr(0, kHashPrefix.size()) != kHashPrefix) return std::nullopt;
  text.remove_prefix(kHashPrefix.size());
  TokenDigest digest{};
  if (text.size() != digest.size() * 2) return std::nullopt;
  for (size_t i = 0; i < digest.size(); ++i) {
    int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    digest[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return digest;
}

struct CapKey {
  const char* name;
  int64_t TokenCaps::*field;
};
constexpr CapKey kCapKeys[] = {{"max-users", &TokenCaps::max_users},
                               {"max-rate", &TokenCaps::max_rate},
                               {"max-runs", &TokenCaps::max_runs}};

// "max-users=500" into caps; an error message, or "".
std::string ParseCap(std::string_view word, TokenCaps* caps) {
  size_t eq = word.find('=');
  std::string_view key = word.substr(0, eq);
  for (const CapKey& cap : kCapKeys) {
    if (key != cap.name) continue;
    if (eq == std::string_view::npos) return "cap " + std::string(key) + " has no =VALUE";
    Result<int64_t> value = ParseCount(word.substr(eq + 1));
    if (!value.ok() || *value < 1) {
      return "cap " + std::string(key) + " must be a whole number from 1 (\"" +
             std::string(word.substr(eq + 1)) + "\")";
    }
    caps->*cap.field = *value;
    return "";
  }
  return "unknown cap \"" + std::string(key.substr(0, 40)) +
         "\" (caps are max-users=N, max-rate=N, max-runs=N)";
}

Status LineError(const std::string& flag, const std::string& path, size_t line,
                 const std::string& message) {
  return Status::Invalid(flag, path + ":" + std::to_string(line) + ": " + message);
}

Status OverCap(const TokenIdentity& who, const char* cap, int64_t value,
               const std::string& asked, const std::string& path) {
  return Status(StatusCode::kPermissionDenied,
                asked + " is above the cap " + cap + "=" + std::to_string(value) +
                    " of token \"" + who.name +
                    "\" (set in the coordinator's tokens file; its operator can change "
                    "it there and send SIGHUP)",
                path);
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kRunner:
      return "runner";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

std::optional<Role> RoleFromName(std::string_view name) {
  for (Role role : {Role::kViewer, Role::kRunner, Role::kAdmin}) {
    if (name == RoleName(role)) return role;
  }
  return std::nullopt;
}

TokenDigest Sha256Of(std::string_view text) {
  TokenDigest digest{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha256(), nullptr);
  return digest;
}

bool ValidTokenName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTokenNameBytes) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<NamedToken>> ParseTokens(std::string_view text,
                                            const std::string& path,
                                            const std::string& flag) {
  std::vector<NamedToken> tokens;
  std::map<std::string, size_t> names;    // name -> line
  std::map<TokenDigest, size_t> digests;  // hash -> line
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    std::vector<std::string_view> words = Words(line);
    if (words.empty() || words[0].front() == '#') continue;
    auto error = [&](const std::string& message) {
      return LineError(flag, path, line_no, message);
    };
    if (words.size() < 3) {
      return error("expected NAME ROLE sha256:HASH [CAPS], got " +
                   std::to_string(words.size()) + " word(s)");
    }
    NamedToken token;
    token.name = std::string(words[0]);
    if (!ValidTokenName(token.name)) {
      return error("token name \"" + token.name.substr(0, 80) +
                   "\" must be 1 to 64 of A-Z a-z 0-9 . _ -");
    }
    if (token.name == kTokenFileName) {
      return error(std::string("the name \"") + kTokenFileName +
                   "\" is the --token-file token's; choose another");
    }
    if (auto it = names.find(token.name); it != names.end()) {
      return error("token name \"" + token.name + "\" is already used on line " +
                   std::to_string(it->second));
    }
    std::optional<Role> role = RoleFromName(words[1]);
    if (!role) {
      return error("role \"" + std::string(words[1].substr(0, 40)) +
                   "\" is not admin, runner or viewer");
    }
    token.role = *role;
    std::optional<TokenDigest> digest = ParseDigest(words[2]);
    if (!digest) {
      return error(
          "the hash must be sha256: and 64 hex digits (`loadd token add` writes it); "
          "the file never holds the secret itself");
    }
    token.digest = *digest;
    if (auto it = digests.find(token.digest); it != digests.end()) {
      return error("the same secret as the token on line " + std::to_string(it->second));
    }
    for (size_t i = 3; i < words.size(); ++i) {
      std::string message = ParseCap(words[i], &token.caps);
      if (!message.empty()) return error(message);
    }
    names[token.name] = line_no;
    digests[token.digest] = line_no;
    tokens.push_back(std::move(token));
  }
  return tokens;
}

Result<std::vector<NamedToken>> ReadTokensFile(const std::string& path,
                                               const std::string& flag) {
  std::string how = "create one with `loadd token add NAME --role ROLE --file " + path +
                    "` (it makes the file, mode 600)";
  Result<std::string> text = ReadPrivateFile(
      path, flag,
      PrivateFileRules{"the REST tokens file", how, kMaxTokensFileBytes,
                       " (" + std::to_string(kMaxTokensFileBytes >> 10) + " KiB)"});
  if (!text.ok()) return text.status();
  return ParseTokens(*text, path, flag);
}

std::string FormatTokenLine(const NamedToken& token) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string line = token.name + " " + RoleName(token.role) + " sha256:";
  for (unsigned char b : token.digest) {
    line.push_back(kHex[b >> 4]);
    line.push_back(kHex[b & 15]);
  }
  for (const CapKey& cap : kCapKeys) {
    int64_t value = token.caps.*cap.field;
    if (value > 0) line += std::string(" ") + cap.name + "=" + std::to_string(value);
  }
  return line;
}

Status CheckTokenCaps(const Plan& plan, const TokenIdentity& who, int64_t active_runs) {
  const TokenCaps& caps = who.caps;
  if (caps.max_runs > 0 && active_runs >= caps.max_runs) {
    return OverCap(who, "max-runs", caps.max_runs,
                   "a new run while " + std::to_string(active_runs) + " are active", "$");
  }
  const bool open = plan.model == LoadModel::kOpen;
  if (caps.max_users > 0) {
    if (open && plan.max_in_flight > caps.max_users) {
      return OverCap(who, "max-users", caps.max_users,
                     std::to_string(plan.max_in_flight) + " iterations in flight",
                     "$.max_in_flight");
    }
    if (!open && plan.stages.empty() && plan.users > caps.max_users) {
      return OverCap(who, "max-users", caps.max_users,
                     std::to_string(plan.users) + " users", "$.users");
    }
  }
  if (caps.max_rate > 0 && open) {
    const double rate = static_cast<double>(caps.max_rate);
    if (plan.arrival_rate > rate) {
      return OverCap(who, "max-rate", caps.max_rate,
                     FormatNumber(plan.arrival_rate) + " arrivals/s", "$.arrival_rate");
    }
    if (plan.start_rate > rate) {
      return OverCap(who, "max-rate", caps.max_rate,
                     FormatNumber(plan.start_rate) + " arrivals/s", "$.start_rate");
    }
  }
  for (size_t i = 0; i < plan.stages.size(); ++i) {
    const double target = plan.stages[i].target;
    const std::string at = JsonPathIndex("$.stages", i);
    if (open && caps.max_rate > 0 && target > static_cast<double>(caps.max_rate)) {
      return OverCap(who, "max-rate", caps.max_rate, FormatNumber(target) + " arrivals/s",
                     at + ".rate");
    }
    if (!open && caps.max_users > 0 && target > static_cast<double>(caps.max_users)) {
      return OverCap(who, "max-users", caps.max_users, FormatNumber(target) + " users",
                     at + ".users");
    }
  }
  return Status::Ok();
}

}  // namespace loadd
