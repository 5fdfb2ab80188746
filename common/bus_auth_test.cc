#include "common/bus_auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <vector>

#include "common/wire.h"

namespace loadd {
namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef-fleet";
const std::string kOtherKey = "fedcba9876543210fedcba9876543210-other";

std::string Hex(const HmacSha256::Mac& mac) {
  std::string out;
  char b[3];
  for (uint8_t c : mac) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

// Runs the handshake between a coordinator holding `server_key` and a worker
// holding `client_key`.
struct Exchange {
  Status server;  // the coordinator's verdict on the worker
  Status client;  // the worker's verdict on the coordinator
  std::unique_ptr<BusSession> server_session, client_session;
};

Exchange Handshake(const std::string& server_key, const std::string& client_key) {
  Exchange ex;
  auto server = ServerHandshake::Start(server_key);
  EXPECT_TRUE(server.ok());
  ClientHandshake client(client_key);
  Result<std::string> response = client.Answer((*server)->Challenge());
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  Result<std::string> proof = (*server)->Finish(*response, &ex.server_session);
  ex.server = proof.status();
  if (!proof.ok()) return ex;
  Result<std::unique_ptr<BusSession>> session = client.Verify(*proof);
  ex.client = session.status();
  if (session.ok()) ex.client_session = std::move(*session);
  return ex;
}

TEST(HmacSha256, MatchesRfc4231AndIsReusable) {
  HmacSha256 mac("Jefe");
  ASSERT_TRUE(mac.ok());
  HmacSha256::Mac out, again, split;
  ASSERT_TRUE(mac.Compute({"what do ya want for nothing?"}, &out));
  EXPECT_EQ(Hex(out), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  ASSERT_TRUE(mac.Compute({"what do ya want for nothing?"}, &again));
  EXPECT_EQ(out, again);
  ASSERT_TRUE(mac.Compute({"what do ya ", "", "want for nothing?"}, &split));
  EXPECT_EQ(out, split);
  EXPECT_FALSE(HmacSha256("").ok());
}

TEST(BusHandshake, SameKeyAuthenticatesBothWays) {
  Exchange ex = Handshake(kKey, kKey);
  ASSERT_TRUE(ex.server.ok()) << ex.server.ToString();
  ASSERT_TRUE(ex.client.ok()) << ex.client.ToString();
  for (int i = 0; i < 3; ++i) {
    std::string up = "stats " + std::to_string(i);
    Result<std::string> frame = ex.client_session->Seal(up);
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ(frame->size(), up.size() + kBusFrameOverheadBytes);
    Result<std::string_view> got = ex.server_session->Open(*frame);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, up);
    Result<std::string> down = ex.server_session->Seal("assign");
    Result<std::string_view> got_down = ex.client_session->Open(*down);
    ASSERT_TRUE(got_down.ok()) << got_down.status().ToString();
    EXPECT_EQ(*got_down, "assign");
  }
  EXPECT_EQ(ex.server_session->last_received(), 3u);
}

TEST(BusHandshake, WorkerWithWrongKeyIsRefused) {
  Exchange ex = Handshake(kKey, kOtherKey);
  EXPECT_EQ(ex.server.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(ex.server.message().find("fleet key"), std::string::npos);
  EXPECT_EQ(ex.server_session, nullptr);
}

// A coordinator that does not know the worker's key: the worker refuses
// whatever it sends as a proof.
TEST(BusHandshake, CoordinatorWithoutTheKeyIsRefused) {
  auto server = ServerHandshake::Start(kOtherKey);
  ASSERT_TRUE(server.ok());
  std::string challenge = (*server)->Challenge();
  // A proof computed the documented way, but with another key.
  auto proof_with = [&](const std::string& key, std::string_view nonce_c) {
    constexpr char kLabel[] = "loadd-bus-v1 coordinator proof";
    HmacSha256 mac(key);
    HmacSha256::Mac m;
    EXPECT_TRUE(mac.Compute({std::string_view(kLabel, sizeof kLabel),
                             std::string_view(challenge).substr(5), nonce_c},
                            &m));
    return std::string("LDAU\x03", 5) +
           std::string(reinterpret_cast<char*>(m.data()), m.size());
  };
  // An earlier, valid proof: from another connection with other nonces.
  Exchange earlier = Handshake(kKey, kKey);
  ASSERT_TRUE(earlier.client.ok());
  struct Case {
    const char* name;
    std::function<std::string(std::string_view response)> proof;
  };
  const Case cases[] = {
      {"other key",
       [&](std::string_view r) { return proof_with(kOtherKey, r.substr(5, 32)); }},
      {"random bytes",
       [&](std::string_view) {
         return std::string("LDAU\x03", 5) + std::string(32, 'x');
       }},
      {"our own response reflected", [&](std::string_view r) { return std::string(r); }},
      {"challenge again", [&](std::string_view) { return challenge; }},
      {"empty", [&](std::string_view) { return std::string(); }},
      {"truncated valid-shaped",
       [&](std::string_view r) {
         return proof_with(kKey, r.substr(5, 32)).substr(0, 36);
       }},
  };
  for (const Case& c : cases) {
    ClientHandshake client(kKey);
    Result<std::string> response = client.Answer(challenge);
    ASSERT_TRUE(response.ok());
    Result<std::unique_ptr<BusSession>> session = client.Verify(c.proof(*response));
    EXPECT_EQ(session.status().code(), StatusCode::kUnauthenticated) << c.name;
  }
  // Sanity: the same construction with the right key is accepted, so the
  // refusals above are about the key, not the format.
  ClientHandshake client(kKey);
  Result<std::string> response = client.Answer(challenge);
  ASSERT_TRUE(response.ok());
  EXPECT_TRUE(
      client.Verify(proof_with(kKey, std::string_view(*response).substr(5, 32))).ok());
}

TEST(BusHandshake, MalformedHandshakeMessagesAreRefused) {
  auto server = ServerHandshake::Start(kKey);
  ASSERT_TRUE(server.ok());
  std::unique_ptr<BusSession> session;
  std::string challenge = (*server)->Challenge();
  EXPECT_EQ(challenge.size(), kBusChallengeBytes);
  EXPECT_FALSE((*server)->Finish("", &session).ok());
  EXPECT_FALSE((*server)->Finish(challenge, &session).ok());
  EXPECT_FALSE((*server)->Finish(std::string(kBusResponseBytes, 'x'), &session).ok());
  EXPECT_FALSE((*server)->Finish(R"({"type":"hello","v":1})", &session).ok());
  EXPECT_EQ(session, nullptr);

  ClientHandshake client(kKey);
  EXPECT_FALSE(
      client.Verify(std::string(kBusProofBytes, 'x')).ok());  // before a challenge
  EXPECT_FALSE(client.Answer(R"({"type":"ping","v":1})").ok());
  EXPECT_FALSE(client.Answer(challenge.substr(0, kBusChallengeBytes - 1)).ok());
  ASSERT_TRUE(client.Answer(challenge).ok());
  EXPECT_FALSE(client.Answer(challenge).ok());  // a second challenge
}

TEST(BusHandshake, NoncesDifferPerConnection) {
  auto a = ServerHandshake::Start(kKey);
  auto b = ServerHandshake::Start(kKey);
  EXPECT_NE((*a)->Challenge(), (*b)->Challenge());
}

// Frames sealed by the worker in one session, tampered with in every way an
// intruder on the path could, then offered to the coordinator.
TEST(BusSessionFrames, TamperedFramesAreRefused) {
  struct Case {
    const char* name;
    // Given frames 1..3 sealed by the worker and one from an older session,
    // returns the frames to open in order; the last one must fail.
    std::function<std::vector<std::string>(const std::vector<std::string>&,
                                           const std::string&)>
        frames;
  };
  auto flip = [](std::string f, size_t at) {
    f[at] ^= 0x01;
    return f;
  };
  const Case cases[] = {
      {"replay",
       [](auto& f, auto&) {
         return std::vector<std::string>{f[0], f[0]};
       }},
      {"replay later",
       [](auto& f, auto&) {
         return std::vector<std::string>{f[0], f[1], f[0]};
       }},
      {"reorder",
       [](auto& f, auto&) {
         return std::vector<std::string>{f[1], f[0]};
       }},
      {"truncated by one byte",
       [](auto& f, auto&) {
         return std::vector<std::string>{f[0].substr(0, f[0].size() - 1)};
       }},
      {"payload cut short",
       [](auto& f, auto&) {
         std::string t = f[0].substr(0, 10) + f[0].substr(f[0].size() - kBusMacBytes);
         return std::vector<std::string>{t};
       }},
      {"MAC cut off",
       [](auto& f, auto&) {
         return std::vector<std::string>{f[0].substr(0, f[0].size() - kBusMacBytes)};
       }},
      {"flipped bit in sequence",
       [&](auto& f, auto&) { return std::vector<std::string>{flip(f[0], 7)}; }},
      {"flipped bit in payload",
       [&](auto& f, auto&) { return std::vector<std::string>{flip(f[0], 12)}; }},
      {"flipped bit in MAC",
       [&](auto& f, auto&) {
         return std::vector<std::string>{flip(f[0], f[0].size() - 1)};
       }},
      {"old session", [](auto&, auto& old) { return std::vector<std::string>{old}; }},
      {"empty", [](auto&, auto&) { return std::vector<std::string>{""}; }},
      {"shorter than header and MAC",
       [](auto&, auto&) {
         return std::vector<std::string>{std::string(kBusFrameOverheadBytes - 1, '\0')};
       }},
      {"oversized",
       [](auto&, auto&) {
         return std::vector<std::string>{
             std::string(kMaxWireMessageBytes + kBusFrameOverheadBytes + 1, 'x')};
       }},
      {"unframed JSON",
       [](auto&, auto&) {
         return std::vector<std::string>{R"({"type":"stats","v":1,"run_id":"r1"})"};
       }},
  };
  Exchange old = Handshake(kKey, kKey);
  ASSERT_TRUE(old.client.ok());
  std::string old_frame = *old.client_session->Seal("stats from before a reconnect");
  for (const Case& c : cases) {
    Exchange ex = Handshake(kKey, kKey);
    ASSERT_TRUE(ex.client.ok());
    std::vector<std::string> sealed;
    for (int i = 1; i <= 3; ++i)
      sealed.push_back(*ex.client_session->Seal("stats " + std::to_string(i)));
    std::vector<std::string> feed = c.frames(sealed, old_frame);
    for (size_t i = 0; i + 1 < feed.size(); ++i) {
      ASSERT_TRUE(ex.server_session->Open(feed[i]).ok()) << c.name << " frame " << i;
    }
    uint64_t before = ex.server_session->last_received();
    Result<std::string_view> last = ex.server_session->Open(feed.back());
    EXPECT_EQ(last.status().code(), StatusCode::kUnauthenticated) << c.name;
    // A refused frame changes nothing: the next genuine frame still opens.
    EXPECT_EQ(ex.server_session->last_received(), before) << c.name;
    EXPECT_TRUE(ex.server_session->Open(sealed[2]).ok() || before >= 3) << c.name;
  }
}

TEST(BusSessionFrames, FramesAreBoundToTheirDirection) {
  Exchange ex = Handshake(kKey, kKey);
  ASSERT_TRUE(ex.client.ok());
  // A coordinator frame reflected back to the coordinator.
  std::string down = *ex.server_session->Seal("stop");
  EXPECT_FALSE(ex.server_session->Open(down).ok());
  // A worker frame reflected back to the worker.
  std::string up = *ex.client_session->Seal("hello");
  EXPECT_FALSE(ex.client_session->Open(up).ok());
  EXPECT_TRUE(ex.server_session->Open(up).ok());
  EXPECT_TRUE(ex.client_session->Open(down).ok());
}

TEST(BusSessionFrames, GapsAreAllowedButNotGoingBack) {
  Exchange ex = Handshake(kKey, kKey);
  ASSERT_TRUE(ex.client.ok());
  std::string f1 = *ex.client_session->Seal("1");
  std::string f2 = *ex.client_session->Seal("2");  // lost in a full send queue
  std::string f3 = *ex.client_session->Seal("3");
  EXPECT_TRUE(ex.server_session->Open(f1).ok());
  EXPECT_TRUE(ex.server_session->Open(f3).ok());
  EXPECT_FALSE(ex.server_session->Open(f2).ok());
}

TEST(BusSessionFrames, LargestMessageRoundTrips) {
  Exchange ex = Handshake(kKey, kKey);
  ASSERT_TRUE(ex.client.ok());
  std::string big(kMaxWireMessageBytes, 'p');
  Result<std::string> frame = ex.server_session->Seal(big);
  ASSERT_TRUE(frame.ok());
  Result<std::string_view> got = ex.client_session->Open(*frame);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), big.size());
  EXPECT_EQ(ex.server_session->Seal(big + "x").status().code(),
            StatusCode::kResourceExhausted);
}

// Whatever bytes a peer sends, in whatever state: a clean refusal, never a
// crash or an accepted message (a cheap stand-in for a fuzzer).
TEST(BusAuthHostileBytes, RandomInputIsRefusedEverywhere) {
  std::mt19937 rng(7);
  Exchange ex = Handshake(kKey, kKey);
  ASSERT_TRUE(ex.client.ok());
  const size_t sizes[] = {0, 1, 5, 36, 37, 38, 39, 40, 41, 68, 69, 70, 200, 4096};
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(sizes[round % std::size(sizes)], '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (round % 3 == 0 && bytes.size() >= 5) bytes.replace(0, 4, "LDAU");
    if (round % 3 == 0 && bytes.size() >= 5) bytes[4] = static_cast<char>(1 + round % 3);
    auto server = ServerHandshake::Start(kKey);
    std::unique_ptr<BusSession> session;
    EXPECT_FALSE((*server)->Finish(bytes, &session).ok());
    ClientHandshake client(kKey);
    (void)client.Answer(bytes);  // a random 37-byte "challenge" is a valid shape
    EXPECT_FALSE(client.Verify(bytes).ok());
    EXPECT_FALSE(ex.server_session->Open(bytes).ok());
    EXPECT_FALSE(ex.client_session->Open(bytes).ok());
  }
  // The sessions are unharmed.
  EXPECT_TRUE(ex.server_session->Open(*ex.client_session->Seal("still here")).ok());
}

class FleetKeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bus_auth_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    chmod(path.c_str(), mode);
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(FleetKeyFileTest, LoadsAndRefusesWithAClearMessage) {
  struct Case {
    const char* name;
    std::string content;
    mode_t mode;
    const char* error;     // nullptr: loads
    std::string key = "";  // what loads
  };
  const std::string key64(64, 'a');
  const Case cases[] = {
      {"good", key64, 0600, nullptr, key64},
      {"trailing newline trimmed", "  " + key64 + "\n", 0400, nullptr, key64},
      {"exactly 32", std::string(32, 'k'), 0600, nullptr, std::string(32, 'k')},
      {"31 chars", std::string(31, 'k'), 0600, "at least 32"},
      {"empty", "", 0600, "at least 32"},
      {"whitespace only", " \n\n", 0600, "at least 32"},
      {"two words", key64 + " " + key64, 0600, "one word"},
      {"two lines", key64 + "\n" + key64, 0600, "one word"},
      {"control character", key64 + "\x01" + key64, 0600, "one word"},
      {"group readable", key64, 0640, "chmod 600"},
      {"world readable", key64, 0644, "chmod 600"},
      {"group writable", key64, 0620, "chmod 600"},
      {"too large", std::string(kMaxFleetKeyFileBytes + 1, 'k'), 0600, "larger than"},
  };
  for (const Case& c : cases) {
    std::string path = Write(c.name, c.content, c.mode);
    Result<std::string> key = LoadFleetKey(path, "--fleet-key-file");
    if (c.error == nullptr) {
      ASSERT_TRUE(key.ok()) << c.name << ": " << key.status().ToString();
      EXPECT_EQ(*key, c.key) << c.name;
      continue;
    }
    ASSERT_FALSE(key.ok()) << c.name;
    EXPECT_EQ(key.status().path(), "--fleet-key-file") << c.name;
    EXPECT_NE(key.status().message().find(c.error), std::string::npos)
        << c.name << ": " << key.status().message();
    EXPECT_NE(key.status().message().find(path), std::string::npos) << c.name;
    // The key never appears in an error.
    EXPECT_EQ(key.status().message().find(key64), std::string::npos) << c.name;
  }
}

TEST_F(FleetKeyFileTest, MissingFileOrDirectorySaysHowToCreateOne) {
  Result<std::string> key = LoadFleetKey(dir_ + "/absent.key", "--fleet-key-file");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("loadd keygen >"), std::string::npos);
  EXPECT_NE(key.status().message().find("No such file"), std::string::npos);
  EXPECT_FALSE(LoadFleetKey(dir_, "--fleet-key-file").ok());
  EXPECT_FALSE(LoadFleetKey("", "--fleet-key-file").ok());
}

TEST(FleetKey, GeneratedKeysAre64HexCharsAndDiffer) {
  Result<std::string> a = GenerateFleetKey();
  Result<std::string> b = GenerateFleetKey();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(*a, *b);
}

TEST(LogLimiter, OneLinePerIntervalCountingTheRest) {
  LogLimiter limiter(10 * 1'000'000'000LL);
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.Allow(0, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(limiter.Allow(1, &suppressed));
  EXPECT_FALSE(limiter.Allow(9'999'999'999LL, &suppressed));
  EXPECT_TRUE(limiter.Allow(10'000'000'000LL, &suppressed));
  EXPECT_EQ(suppressed, 2u);
}

}  // namespace
}  // namespace loadd
