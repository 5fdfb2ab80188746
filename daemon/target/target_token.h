// Bearer tokens of the `loadd target` demo API: "t.<user>.<checksum>", where
// <user> is the user name with every byte outside [A-Za-z0-9_@-] written as
// %XX, and <checksum> is 16 hex digits of a keyed 64-bit hash of the user
// name under a per-process random key. Any thread can mint and verify them
// without shared state; they never expire and die with the process.
//
// The hash is a demo, not a MAC: it keeps load-test plans honest (a token
// must come from /login), it does not stop an attacker.
#ifndef LOADD_DAEMON_TARGET_TARGET_TOKEN_H_
#define LOADD_DAEMON_TARGET_TARGET_TOKEN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loadd {

// Longest user name /login accepts, in bytes; tokens stay under ~800 bytes.
constexpr size_t kMaxUserBytes = 256;

class TokenSigner {
 public:
  // The key: random per process in the server, fixed in tests.
  TokenSigner(uint64_t key0, uint64_t key1) : key0_(key0), key1_(key1) {}
  // A key from the system's random source.
  static TokenSigner Random();

  std::string Mint(std::string_view user) const;
  // The user name a token was minted for; nullopt when it was not minted
  // under this key (or is malformed). Thread-safe: the key never changes.
  std::optional<std::string> Verify(std::string_view token) const;

 private:
  uint64_t Checksum(std::string_view user) const;

  const uint64_t key0_;
  const uint64_t key1_;
};

// The token of an "Authorization: Bearer <token>" header value (scheme
// case-insensitive, surrounding blanks ignored); empty when it is not one.
std::string_view BearerToken(std::string_view authorization);
// The value of the "session" cookie in a Cookie header ("a=1; session=T"),
// or empty.
std::string_view SessionCookie(std::string_view cookie_header);

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_TOKEN_H_
