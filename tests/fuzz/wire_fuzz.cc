// Fuzzes DecodeMessage, which reads every bus message a peer sends. Besides
// "never crash", a message that decodes must encode (EncodeMessage) to bytes
// that decode again, and that second encoding must equal the first: what
// the coordinator relays is what it understood. Stats decode from JSON or
// from the binary form (common/wire_stats.h; seeds corpus/wire/*.bin) and
// always encode to the binary one.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/wire.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "wire_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  loadd::Result<loadd::Message> msg = loadd::DecodeMessage(bytes);
  if (!msg.ok()) return 0;
  std::string encoded = loadd::EncodeMessage(*msg);
  loadd::Result<loadd::Message> again = loadd::DecodeMessage(encoded);
  if (!again.ok()) {
    Fail("the re-encoded message does not decode",
         again.status().ToString() + "\nencoded: " + encoded);
  }
  std::string twice = loadd::EncodeMessage(*again);
  if (twice != encoded) {
    Fail("encoding is not stable", "first:  " + encoded + "\nsecond: " + twice);
  }
  return 0;
}
