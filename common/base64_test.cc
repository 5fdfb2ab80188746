#include "common/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace loadd {
namespace {

// RFC 4648 section 10 test vectors.
struct Vector {
  std::string bytes;
  std::string text;
};
const Vector kVectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    {std::string("\x00\xff\xfe\x3e\x3f", 5), "AP/+Pj8="},
};

TEST(Base64Test, EncodesRfcVectors) {
  for (const Vector& v : kVectors) EXPECT_EQ(Base64Encode(v.bytes), v.text) << v.text;
}

TEST(Base64Test, DecodesRfcVectors) {
  for (const Vector& v : kVectors) {
    Result<std::string> decoded = Base64Decode(v.text);
    ASSERT_TRUE(decoded.ok()) << v.text << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, v.bytes) << v.text;
  }
}

TEST(Base64Test, RoundTripsRandomBytesOfEveryLength) {
  std::mt19937 rng(7);
  for (size_t length = 0; length < 300; ++length) {
    std::string bytes(length, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string text = Base64Encode(bytes);
    EXPECT_EQ(text.size() % 4, 0u);
    Result<std::string> decoded = Base64Decode(text);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, bytes);
  }
}

struct BadInput {
  std::string text;
  std::string message_part;
};
const BadInput kBadInputs[] = {
    {"Zg=", "not a multiple of 4"},
    {"Zm9vY", "not a multiple of 4"},
    {"Zm9v\n", "not a multiple of 4"},
    {"Zm 9", "invalid byte 0x20 at offset 2"},  // whitespace is not skipped
    {"Zm9*", "invalid '*' at offset 3"},
    {"Zm-_", "invalid '-' at offset 2"},  // the URL-safe alphabet is not accepted
    {"Z=9v", "invalid '=' at offset 1"},  // padding in the middle
    {"Zg==Zg==", "invalid '=' at offset 2"},
    {"====", "invalid '=' at offset 0"},
    {"A===", "invalid '=' at offset 1"},
    {std::string("Zm9\x80", 4), "invalid byte 0x80 at offset 3"},
    {std::string("Zm\0v", 4), "invalid byte 0x00 at offset 2"},
};

TEST(Base64Test, RejectsBadInputWithClearMessage) {
  for (const BadInput& bad : kBadInputs) {
    Result<std::string> decoded = Base64Decode(bad.text);
    ASSERT_FALSE(decoded.ok()) << bad.text;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(decoded.status().message().find(bad.message_part), std::string::npos)
        << "got: " << decoded.status().message() << ", want: " << bad.message_part;
  }
}

}  // namespace
}  // namespace loadd
