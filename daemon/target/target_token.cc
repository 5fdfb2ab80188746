#include "daemon/target/target_token.h"

#include <strings.h>

#include <random>

namespace loadd {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr size_t kChecksumDigits = 16;

bool IsPlain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '@' || c == '-';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The splitmix64 finalizer: every input bit affects every output bit.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::optional<std::string> Unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (IsPlain(c)) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (c != '%' || i + 2 >= text.size()) return std::nullopt;
    int high = HexValue(text[i + 1]);
    int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

}  // namespace

TokenSigner TokenSigner::Random() {
  std::random_device device;
  auto next = [&device] { return (uint64_t{device()} << 32) | device(); };
  uint64_t key0 = next();
  return TokenSigner(key0, next());
}

uint64_t TokenSigner::Checksum(std::string_view user) const {
  uint64_t h = key0_;
  for (unsigned char c : user) h = Mix(h ^ c) + key1_;
  return Mix(h ^ user.size() ^ key1_);
}

std::string TokenSigner::Mint(std::string_view user) const {
  std::string token = "t.";
  for (unsigned char c : user) {
    if (IsPlain(c)) {
      token.push_back(static_cast<char>(c));
    } else {
      token.push_back('%');
      token.push_back(kHex[c >> 4]);
      token.push_back(kHex[c & 15]);
    }
  }
  token.push_back('.');
  uint64_t sum = Checksum(user);
  for (int shift = 60; shift >= 0; shift -= 4) token.push_back(kHex[(sum >> shift) & 15]);
  return token;
}

std::optional<std::string> TokenSigner::Verify(std::string_view token) const {
  if (token.size() < 3 + kChecksumDigits || token.substr(0, 2) != "t.") {
    return std::nullopt;
  }
  size_t dot = token.size() - kChecksumDigits - 1;
  if (token[dot] != '.') return std::nullopt;
  std::optional<std::string> user = Unescape(token.substr(2, dot - 2));
  if (!user || user->empty() || user->size() > kMaxUserBytes) return std::nullopt;
  // Only the canonical spelling is valid ("%41" for "A" is not).
  if (Mint(*user) != token) return std::nullopt;
  return user;
}

std::string_view BearerToken(std::string_view authorization) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      strncasecmp(authorization.data(), kScheme.data(), kScheme.size()) != 0 ||
      (authorization[kScheme.size()] != ' ' && authorization[kScheme.size()] != '\t')) {
    return {};
  }
  return trim(authorization.substr(kScheme.size()));
}

std::string_view SessionCookie(std::string_view cookie_header) {
  constexpr std::string_view kName = "session=";
  while (!cookie_header.empty()) {
    size_t semi = cookie_header.find(';');
    std::string_view pair = cookie_header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.substr(0, kName.size()) == kName) return pair.substr(kName.size());
    if (semi == std::string_view::npos) break;
    cookie_header.remove_prefix(semi + 1);
  }
  return {};
}

}  // namespace loadd
