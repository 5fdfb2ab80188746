// Fleet bus authentication (docs/wire-protocol.md, "Authentication").
//
// Every coordinator and worker of a fleet holds the same fleet key. On each
// new bus connection the two ends run a mutual challenge-response handshake
// that proves both know the key without sending it, and derive a session key
// from fresh nonces of both sides. After that every message travels in a
// frame [u64 seq][payload][HMAC-SHA256(session, direction || seq || payload)]
// whose sequence number must grow in each direction, so a forged, altered,
// truncated, replayed or reordered frame, or one from another session, is
// refused.
//
// The classes here are pure computation over bytes (no I/O, no clock): the
// bus ends (BusServer, BusClient) own one per connection and do the sending.
// None is thread-safe; callers serialize.
#ifndef LOADD_COMMON_BUS_AUTH_H_
#define LOADD_COMMON_BUS_AUTH_H_

#include <array>
#include <atomic>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace loadd {

constexpr const char* kDefaultFleetKeyFile = "/etc/loadd/fleet.key";
constexpr size_t kMinFleetKeyChars = 32;
constexpr size_t kMaxFleetKeyFileBytes = 4096;

constexpr size_t kBusNonceBytes = 32;
constexpr size_t kBusMacBytes = 32;
constexpr size_t kBusSeqBytes = 8;
// Bytes a frame adds to its payload.
constexpr size_t kBusFrameOverheadBytes = kBusSeqBytes + kBusMacBytes;
// Handshake messages: 4-byte magic "LDAU", 1 type byte, then fields.
constexpr uint8_t kBusChallengeType = 1;
constexpr uint8_t kBusResponseType = 2;
constexpr uint8_t kBusProofType = 3;
constexpr size_t kBusChallengeBytes = 5 + kBusNonceBytes;
constexpr size_t kBusResponseBytes = 5 + kBusNonceBytes + kBusMacBytes;
constexpr size_t kBusProofBytes = 5 + kBusMacBytes;

// Reads the fleet key from `path`: the file's content without surrounding
// whitespace, at least kMinFleetKeyChars printable characters, no inner
// whitespace. Refuses a file that group or others may access. Errors name
// `flag` and say how to fix it (loadd keygen, chmod 600).
Result<std::string> LoadFleetKey(const std::string& path,
                                 const std::string& flag = "--fleet-key-file");

// A new fleet key: 32 random bytes from the OpenSSL CSPRNG as 64 hex chars.
Result<std::string> GenerateFleetKey();

// Fills `out` with cryptographically random bytes.
Status RandomBytes(uint8_t* out, size_t n);

// HMAC-SHA256 with a fixed key, reusable for many messages.
class HmacSha256 {
 public:
  using Mac = std::array<uint8_t, kBusMacBytes>;
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // False when OpenSSL could not set the key (then every Compute fails).
  bool ok() const { return ctx_ != nullptr; }
  // MAC of the concatenation of `parts`; false on an OpenSSL failure.
  bool Compute(std::initializer_list<std::string_view> parts, Mac* out);

 private:
  struct Ctx;
  Ctx* ctx_ = nullptr;
};

// Which end of a session we are; frames are bound to their direction.
enum class BusEnd : uint8_t { kCoordinator = 1, kWorker = 2 };

// One authenticated connection's framing state.
class BusSession {
 public:
  // `session_key` comes from a finished handshake.
  BusSession(BusEnd self, std::string_view session_key);

  // Wraps `payload` in the next outgoing frame. Every call uses a new
  // sequence number, even if the caller then fails to send the frame.
  Result<std::string> Seal(std::string_view payload);
  // Checks a frame from the peer and returns its payload (a view into
  // `frame`). kUnauthenticated for a bad MAC, an old sequence number or a
  // malformed frame; the session state is unchanged then.
  Result<std::string_view> Open(std::string_view frame);

  uint64_t sent() const { return send_seq_; }
  uint64_t last_received() const { return recv_seq_; }

 private:
  BusEnd self_;
  HmacSha256 mac_;
  uint64_t send_seq_ = 0;  // last sequence number sealed
  uint64_t recv_seq_ = 0;  // last sequence number accepted
};

// The coordinator's side of the handshake on one connection.
class ServerHandshake {
 public:
  // Draws the server nonce. The key is copied: a reload does not change a
  // handshake already under way.
  static Result<std::unique_ptr<ServerHandshake>> Start(std::string_view fleet_key);
  // The first message on the connection.
  std::string Challenge() const;
  // Checks the worker's response. On success returns the proof to send back
  // and sets *session; kUnauthenticated when the worker does not know the key.
  Result<std::string> Finish(std::string_view response,
                             std::unique_ptr<BusSession>* session);

 private:
  explicit ServerHandshake(std::string_view fleet_key) : key_(fleet_key) {}
  std::string key_;
  std::array<uint8_t, kBusNonceBytes> nonce_{};
};

// The worker's side of the handshake on one connection.
class ClientHandshake {
 public:
  explicit ClientHandshake(std::string_view fleet_key) : key_(fleet_key) {}
  // Answers the coordinator's challenge; call once.
  Result<std::string> Answer(std::string_view challenge);
  // Checks the coordinator's proof; on success returns the session.
  // kUnauthenticated when the peer does not know the key.
  Result<std::unique_ptr<BusSession>> Verify(std::string_view proof);
  bool answered() const { return answered_; }

 private:
  std::string key_;
  std::string nonces_;  // nonce_s || nonce_c once answered
  bool answered_ = false;
};

// True if `bytes` has the shape of a handshake message of `size` bytes and
// type byte `type` (kBusChallengeType...); content unchecked.
bool IsHandshakeMessage(std::string_view bytes, size_t size, uint8_t type);

// At most one line per `interval_ns`: Allow() says whether to log now and
// how many were suppressed since the last allowed one. Thread-safe.
class LogLimiter {
 public:
  explicit LogLimiter(int64_t interval_ns) : interval_ns_(interval_ns) {}
  bool Allow(int64_t now_ns, uint64_t* suppressed);

 private:
  int64_t interval_ns_;
  std::atomic<int64_t> next_ns_{INT64_MIN};
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace loadd

#endif  // LOADD_COMMON_BUS_AUTH_H_
