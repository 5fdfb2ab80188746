// The demo API of `loadd target` (login, items, echo, a small shop; the list
// is in target_routes.h, curl examples in docs/target.md). Example plans
// drive it as a realistic application.
//
// The session asks NeedsFor() once the request line is parsed, keeps what
// the answer says (body, headers), and at the end of the request calls
// Handle() instead of RouteRequest(). Handle() is a function of the request
// and of the store; tokens are verified without shared state.
#ifndef LOADD_DAEMON_TARGET_TARGET_API_H_
#define LOADD_DAEMON_TARGET_TARGET_API_H_

#include <string>
#include <string_view>
#include <vector>

#include "daemon/target/target_routes.h"
#include "daemon/target/target_store.h"
#include "daemon/target/target_token.h"

namespace loadd {

struct HeaderField {
  std::string name;  // lower-case
  std::string value;
};

// Views valid for the duration of Handle().
struct ApiRequest {
  std::string_view method;         // as http_method_str() spells it: "GET", "POST", ...
  std::string_view url;            // the request target as sent
  std::string_view authorization;  // Authorization value; empty when absent
  std::string_view cookie;         // Cookie value; empty when absent
  std::string_view content_type;   // Content-Type value; empty when absent
  std::string_view body;           // empty unless ApiNeeds::body
  const std::vector<HeaderField>* headers = nullptr;  // set only for ApiNeeds::headers
};

// What a session must keep of a request for the API.
struct ApiNeeds {
  bool api = false;      // a demo API path: answer with DemoApi::Handle
  bool body = false;     // keep the body (bounded by SessionLimits::max_body_bytes)
  bool headers = false;  // keep every header, names lower-cased (/echo)
};

// Bounds of what /echo reports and a session keeps for it.
constexpr size_t kMaxEchoHeaders = 64;
constexpr size_t kMaxEchoContentTypeBytes = 128;  // longer: application/octet-stream

class DemoApi {
 public:
  DemoApi(const TokenSigner& signer, const DemoStoreLimits& limits = DemoStoreLimits())
      : signer_(signer), store_(limits) {}
  DemoApi(const DemoApi&) = delete;
  DemoApi& operator=(const DemoApi&) = delete;

  // Pure and cheap: called for every request, API or not.
  static ApiNeeds NeedsFor(std::string_view method, std::string_view path);

  // Thread-safe. The route has kind kPlain, no delay and a JSON body (echo:
  // the request's body and type).
  Route Handle(const ApiRequest& request);

  const TokenSigner& signer() const { return signer_; }
  DemoStore& store() { return store_; }

 private:
  const TokenSigner signer_;
  DemoStore store_;
};

// Appends `text` as a JSON string literal (quotes included). Bytes that are
// not valid UTF-8 are written as \u00XX, so the output is always valid JSON.
void AppendJsonString(std::string* out, std::string_view text);

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_API_H_
