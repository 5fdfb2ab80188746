// Fuzzes how the coordinator reads REST requests: RequestReader
// (rest_reader.h: Pistache's parser, the gated body, the framing checks)
// with the route table's admission (AdmitRequest, rest_routes.h) as its
// headers check, fed what a client sends cut into pieces. The first input
// byte chooses the piece size; the rest is the byte stream.
//
// Besides "never crash", checks the reader's contracts: every call uses
// some of its input and no more than it was given; a request is complete
// only after its headers were checked; once refused, every later byte is
// refused; a complete request is one the table admits with its real body;
// before the check, Pistache was given at most the line and headers plus
// kFeedBytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "daemon/coordinator/auth.h"
#include "daemon/coordinator/limits.h"
#include "daemon/coordinator/rest_reader.h"
#include "daemon/coordinator/rest_routes.h"

namespace {

// The seed corpus (corpus/rest/) sends this token.
constexpr char kToken[] = "fuzz-token-0123456789abcdef";

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "rest_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

struct World {
  World() {
    auth.SetToken(kToken);
    limits.max_plan_bytes = 4096;  // small bodies keep each input fast
    limits.max_data_bytes = 4096;
  }
  loadd::BearerAuth auth;
  loadd::RunLimits limits;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const World* world = new World();
  if (size < 1) return 0;
  const size_t piece = 1 + (size_t{data[0]} << 5);
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  const size_t len = size - 1;

  bool checked = false;
  size_t fed_at_check = 0;  // input offset when the last check ran
  size_t at = 0;
  loadd::RequestReader reader(
      world->limits.MaxBodyBytes() + loadd::kMaxRestHeaderBytes,
      [&](const loadd::RestRequest& req, size_t content_length, loadd::BodyLease*) {
        checked = true;
        fed_at_check = at;
        return loadd::AdmitRequest(loadd::MatchRoute(req.method, req.resource), req,
                                   content_length, world->auth, world->limits);
      });
  bool refused = false;
  size_t request_start = 0;
  while (at < len) {
    size_t n = std::min(piece, len - at);
    loadd::RequestReader::Fed fed = reader.Feed(bytes + at, n);
    if (fed.used_bytes == 0 || fed.used_bytes > n) {
      Fail("Feed used none or too much of its input",
           std::to_string(fed.used_bytes) + " of " + std::to_string(n));
    }
    if (refused && fed.event != loadd::RequestReader::Event::kRefused) {
      Fail("a refused connection read on", std::string(bytes + at, n));
    }
    if (checked && fed_at_check - request_start > loadd::kMaxRestHeaderBytes + piece) {
      Fail("the headers check ran after more than the headers were read",
           std::to_string(fed_at_check - request_start));
    }
    switch (fed.event) {
      case loadd::RequestReader::Event::kAgain:
        break;
      case loadd::RequestReader::Event::kRefused:
        refused = true;
        if (reader.refusal().ok() || reader.refusal().message().empty()) {
          Fail("a refusal without a reason", "");
        }
        break;
      case loadd::RequestReader::Event::kRequest: {
        if (!checked) Fail("a request completed without a headers check", "");
        const loadd::RestRequest& req = reader.request();
        loadd::Status again =
            loadd::AdmitRequest(loadd::MatchRoute(req.method, req.resource), req,
                                reader.body().size(), world->auth, world->limits);
        if (!again.ok())
          Fail("a request was read that the table refuses", again.message());
        (void)reader.WantsClose();
        reader.Next();
        checked = false;
        request_start = at + fed.used_bytes;
        break;
      }
    }
    at += fed.used_bytes;
  }
  return 0;
}
