#include "common/bus_auth.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/wire.h"

namespace loadd {
namespace {

constexpr char kMagic[4] = {'L', 'D', 'A', 'U'};
constexpr uint8_t kChallengeType = kBusChallengeType;
constexpr uint8_t kResponseType = kBusResponseType;
constexpr uint8_t kProofType = kBusProofType;

// HMAC labels, NUL-terminated so that no label is a prefix of another.
constexpr char kWorkerLabelChars[] = "loadd-bus-v1 worker proof";
constexpr char kCoordinatorLabelChars[] = "loadd-bus-v1 coordinator proof";
constexpr char kSessionLabelChars[] = "loadd-bus-v1 session key";
constexpr std::string_view kWorkerLabel{kWorkerLabelChars, sizeof kWorkerLabelChars};
constexpr std::string_view kCoordinatorLabel{kCoordinatorLabelChars,
                                             sizeof kCoordinatorLabelChars};
constexpr std::string_view kSessionLabel{kSessionLabelChars, sizeof kSessionLabelChars};

std::string_view View(const uint8_t* p, size_t n) {
  return std::string_view(reinterpret_cast<const char*>(p), n);
}

std::string HandshakeMessage(uint8_t type, std::string_view a, std::string_view b = {}) {
  std::string out(kMagic, sizeof kMagic);
  out.push_back(static_cast<char>(type));
  out.append(a);
  out.append(b);
  return out;
}

Status Unauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}

// HMAC(key, label || nonces); kInternal if OpenSSL fails.
Status KeyedMac(std::string_view key, std::string_view label, std::string_view nonces,
                HmacSha256::Mac* out) {
  HmacSha256 mac(key);
  if (!mac.Compute({label, nonces}, out)) {
    return Status(StatusCode::kInternal, "HMAC-SHA256 failed in OpenSSL");
  }
  return Status::Ok();
}

bool SameMac(std::string_view got, const HmacSha256::Mac& want) {
  return got.size() == want.size() &&
         CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
}

std::string KeyFileHelp(const std::string& path) {
  return "every coordinator and worker of a fleet needs the same fleet key; create one "
         "with "
         "`(umask 077; loadd keygen > " +
         path +
         ")`, copy it to every host, and point "
         "--fleet-key-file (or LOADD_FLEET_KEY_FILE) at it";
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

Result<std::string> LoadFleetKey(const std::string& path, const std::string& flag) {
  if (path.empty())
    return Status::Invalid(
        flag, "no fleet key file given; " + KeyFileHelp(kDefaultFleetKeyFile));
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return Status::Invalid(flag, "cannot read fleet key file " + path + ": " +
                                     std::strerror(errno) + "; " + KeyFileHelp(path));
  }
  struct stat st {};
  std::string content;
  std::string error;
  if (fstat(fd, &st) != 0) {
    error = std::string("cannot stat it: ") + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    error = "not a regular file";
  } else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    error = std::string("group or others may access it (mode ") + mode +
            "); a fleet key must be private to the loadd user: run `chmod 600 " + path +
            "`";
  } else if (static_cast<size_t>(st.st_size) > kMaxFleetKeyFileBytes) {
    error = "larger than " + std::to_string(kMaxFleetKeyFileBytes) + " bytes; " +
            KeyFileHelp(path);
  } else {
    char buf[kMaxFleetKeyFileBytes + 1];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
      error = std::string("cannot read it: ") + std::strerror(errno);
    else
      content.assign(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (!error.empty())
    return Status::Invalid(flag, "fleet key file " + path + ": " + error);
  size_t begin = 0, end = content.size();
  while (begin < end && IsSpace(content[begin])) ++begin;
  while (end > begin && IsSpace(content[end - 1])) --end;
  std::string key = content.substr(begin, end - begin);
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return Status::Invalid(flag, "fleet key file " + path +
                                       ": the key must be one word of "
                                       "printable ASCII (no spaces, no line breaks); " +
                                       KeyFileHelp(path));
    }
  }
  if (key.size() < kMinFleetKeyChars) {
    return Status::Invalid(
        flag, "fleet key file " + path + ": the key has " + std::to_string(key.size()) +
                  " characters, at least " + std::to_string(kMinFleetKeyChars) +
                  " are needed; " + KeyFileHelp(path));
  }
  return key;
}

Status RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    return Status(StatusCode::kInternal, "OpenSSL RAND_bytes failed: no random numbers");
  }
  return Status::Ok();
}

Result<std::string> GenerateFleetKey() {
  uint8_t bytes[32];
  LOADD_RETURN_IF_ERROR(RandomBytes(bytes, sizeof bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  for (uint8_t b : bytes) {
    key.push_back(kHex[b >> 4]);
    key.push_back(kHex[b & 15]);
  }
  OPENSSL_cleanse(bytes, sizeof bytes);
  return key;
}

struct HmacSha256::Ctx {
  EVP_MAC_CTX* mac = nullptr;
};

HmacSha256::HmacSha256(std::string_view key) {
  // One fetch per process: fetching by name takes a lock and a lookup.
  static EVP_MAC* const kHmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (kHmac == nullptr || key.empty()) return;
  EVP_MAC_CTX* mac = EVP_MAC_CTX_new(kHmac);
  if (mac == nullptr) return;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(mac, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params) != 1) {
    EVP_MAC_CTX_free(mac);
    return;
  }
  ctx_ = new Ctx{mac};
}

HmacSha256::~HmacSha256() {
  if (ctx_ == nullptr) return;
  EVP_MAC_CTX_free(ctx_->mac);
  delete ctx_;
}

bool HmacSha256::Compute(std::initializer_list<std::string_view> parts, Mac* out) {
  if (ctx_ == nullptr) return false;
  // A null key re-initializes with the key already set (OpenSSL 3).
  if (EVP_MAC_init(ctx_->mac, nullptr, 0, nullptr) != 1) return false;
  for (std::string_view p : parts) {
    if (EVP_MAC_update(ctx_->mac, reinterpret_cast<const unsigned char*>(p.data()),
                       p.size()) != 1) {
      return false;
    }
  }
  size_t len = 0;
  return EVP_MAC_final(ctx_->mac, out->data(), &len, out->size()) == 1 &&
         len == out->size();
}

BusSession::BusSession(BusEnd self, std::string_view session_key)
    : self_(self), mac_(session_key) {}

Result<std::string> BusSession::Seal(std::string_view payload) {
  if (payload.size() > kMaxWireMessageBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "bus message of " + std::to_string(payload.size()) + " bytes exceeds " +
                      std::to_string(kMaxWireMessageBytes));
  }
  uint64_t seq = ++send_seq_;
  std::string frame;
  frame.reserve(payload.size() + kBusFrameOverheadBytes);
  for (int shift = 56; shift >= 0; shift -= 8)
    frame.push_back(static_cast<char>(seq >> shift));
  frame.append(payload);
  const char dir = static_cast<char>(self_);
  HmacSha256::Mac mac;
  if (!mac_.Compute({std::string_view(&dir, 1), frame}, &mac)) {
    return Status(StatusCode::kInternal, "HMAC-SHA256 failed in OpenSSL");
  }
  frame.append(View(mac.data(), mac.size()));
  return frame;
}

Result<std::string_view> BusSession::Open(std::string_view frame) {
  if (frame.size() < kBusFrameOverheadBytes) {
    return Unauthenticated("frame of " + std::to_string(frame.size()) +
                           " bytes is shorter than its header and MAC (" +
                           std::to_string(kBusFrameOverheadBytes) + ")");
  }
  if (frame.size() > kMaxWireMessageBytes + kBusFrameOverheadBytes) {
    return Unauthenticated("frame of " + std::to_string(frame.size()) +
                           " bytes is too large");
  }
  std::string_view body = frame.substr(0, frame.size() - kBusMacBytes);
  // The peer's direction: a frame we sent cannot be reflected back to us.
  const char dir = static_cast<char>(
      self_ == BusEnd::kCoordinator ? BusEnd::kWorker : BusEnd::kCoordinator);
  HmacSha256::Mac want;
  if (!mac_.Compute({std::string_view(&dir, 1), body}, &want)) {
    return Status(StatusCode::kInternal, "HMAC-SHA256 failed in OpenSSL");
  }
  if (!SameMac(frame.substr(body.size()), want)) {
    return Unauthenticated(
        "frame MAC mismatch: altered, truncated, or from another session");
  }
  uint64_t seq = 0;
  for (size_t i = 0; i < kBusSeqBytes; ++i)
    seq = seq << 8 | static_cast<uint8_t>(frame[i]);
  if (seq <= recv_seq_) {
    return Unauthenticated("frame sequence number " + std::to_string(seq) +
                           " is not above the last accepted " +
                           std::to_string(recv_seq_) + ": replayed or reordered");
  }
  recv_seq_ = seq;
  return body.substr(kBusSeqBytes);
}

bool IsHandshakeMessage(std::string_view bytes, size_t size, uint8_t type) {
  return bytes.size() == size && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0 &&
         static_cast<uint8_t>(bytes[4]) == type;
}

Result<std::unique_ptr<ServerHandshake>> ServerHandshake::Start(
    std::string_view fleet_key) {
  std::unique_ptr<ServerHandshake> h(new ServerHandshake(fleet_key));
  LOADD_RETURN_IF_ERROR(RandomBytes(h->nonce_.data(), h->nonce_.size()));
  return h;
}

std::string ServerHandshake::Challenge() const {
  return HandshakeMessage(kChallengeType, View(nonce_.data(), nonce_.size()));
}

Result<std::string> ServerHandshake::Finish(std::string_view response,
                                            std::unique_ptr<BusSession>* session) {
  if (!IsHandshakeMessage(response, kBusResponseBytes, kResponseType)) {
    return Unauthenticated("not a handshake response (" +
                           std::to_string(response.size()) + " bytes)");
  }
  std::string nonces(View(nonce_.data(), nonce_.size()));
  nonces.append(response.substr(5, kBusNonceBytes));
  HmacSha256::Mac want, proof, session_key;
  LOADD_RETURN_IF_ERROR(KeyedMac(key_, kWorkerLabel, nonces, &want));
  if (!SameMac(response.substr(5 + kBusNonceBytes), want)) {
    return Unauthenticated("the peer does not know the fleet key (wrong handshake MAC)");
  }
  LOADD_RETURN_IF_ERROR(KeyedMac(key_, kCoordinatorLabel, nonces, &proof));
  LOADD_RETURN_IF_ERROR(KeyedMac(key_, kSessionLabel, nonces, &session_key));
  *session = std::make_unique<BusSession>(BusEnd::kCoordinator,
                                          View(session_key.data(), session_key.size()));
  OPENSSL_cleanse(session_key.data(), session_key.size());
  return HandshakeMessage(kProofType, View(proof.data(), proof.size()));
}

Result<std::string> ClientHandshake::Answer(std::string_view challenge) {
  if (answered_) return Unauthenticated("a second handshake challenge on one connection");
  if (!IsHandshakeMessage(challenge, kBusChallengeBytes, kChallengeType)) {
    return Unauthenticated("not a handshake challenge (" +
                           std::to_string(challenge.size()) + " bytes)");
  }
  std::array<uint8_t, kBusNonceBytes> nonce;
  LOADD_RETURN_IF_ERROR(RandomBytes(nonce.data(), nonce.size()));
  nonces_.assign(challenge.substr(5));
  nonces_.append(View(nonce.data(), nonce.size()));
  HmacSha256::Mac mac;
  LOADD_RETURN_IF_ERROR(KeyedMac(key_, kWorkerLabel, nonces_, &mac));
  answered_ = true;
  return HandshakeMessage(kResponseType, View(nonce.data(), nonce.size()),
                          View(mac.data(), mac.size()));
}

Result<std::unique_ptr<BusSession>> ClientHandshake::Verify(std::string_view proof) {
  if (!answered_) return Unauthenticated("a handshake proof before any challenge");
  if (!IsHandshakeMessage(proof, kBusProofBytes, kProofType)) {
    return Unauthenticated("not a handshake proof (" + std::to_string(proof.size()) +
                           " bytes)");
  }
  HmacSha256::Mac want, session_key;
  LOADD_RETURN_IF_ERROR(KeyedMac(key_, kCoordinatorLabel, nonces_, &want));
  if (!SameMac(proof.substr(5), want)) {
    return Unauthenticated(
        "the peer does not know the fleet key (wrong handshake proof)");
  }
  LOADD_RETURN_IF_ERROR(KeyedMac(key_, kSessionLabel, nonces_, &session_key));
  auto session = std::make_unique<BusSession>(
      BusEnd::kWorker, View(session_key.data(), session_key.size()));
  OPENSSL_cleanse(session_key.data(), session_key.size());
  return session;
}

bool LogLimiter::Allow(int64_t now_ns, uint64_t* suppressed) {
  int64_t next = next_ns_.load();
  if (now_ns < next || !next_ns_.compare_exchange_strong(next, now_ns + interval_ns_)) {
    ++suppressed_;
    return false;
  }
  *suppressed = suppressed_.exchange(0);
  return true;
}

}  // namespace loadd
