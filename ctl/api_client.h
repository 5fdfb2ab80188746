// ApiClient: the coordinator's REST API as loadctl sees it (docs/rest-api.md).
//
// The transport is an interface so command logic runs against an in-memory
// fake in tests; CurlApiClient (curl_api_client.h) is the real one. The free
// functions turn replies into Status the same way for every command.
#ifndef LOADD_CTL_API_CLIENT_H_
#define LOADD_CTL_API_CLIENT_H_

#include <rapidjson/document.h>

#include <string>

#include "common/status.h"

namespace loadd {

struct HttpReply {
  int status = 0;    // HTTP status code
  std::string body;  // as received
};

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  // The coordinator's base URL without a trailing '/', for messages.
  virtual std::string BaseUrl() const = 0;

  // path starts with '/' and may carry a query ("/v1/runs/r1?timeline=0").
  // Any HTTP answer, 4xx and 5xx included, is a reply; a non-OK Status means
  // no answer arrived (kUnavailable: refused, timed out, DNS) and its message
  // names the URL.
  virtual Result<HttpReply> Get(const std::string& path) = 0;
  // Sends body as application/json.
  virtual Result<HttpReply> Post(const std::string& path, const std::string& body) = 0;
  // PATCH, body as application/json (live scaling).
  virtual Result<HttpReply> Patch(const std::string& path, const std::string& body) = 0;
  // Added to the error of a 401 answer: what was sent and how to fix it.
  virtual std::string AuthHint() const { return ""; }
};

// A 2xx answer whose body is a JSON object.
struct JsonReply {
  std::string body;  // verbatim, for --json
  rapidjson::Document doc;
};

// Sends the request and accepts only a 2xx JSON object. An error answer
// becomes the Status its `error` object names (code, message, path); any
// other unexpected answer is kInternal, and no answer kUnavailable; messages
// name the method and URL.
Status GetJson(ApiClient* api, const std::string& path, JsonReply* reply);
Status PostJson(ApiClient* api, const std::string& path, const std::string& body,
                JsonReply* reply);

Status PatchJson(ApiClient* api, const std::string& path, const std::string& body,
                 JsonReply* reply);

// Sends the request and accepts any 2xx answer, whose body is returned as
// is (text/plain routes such as the interval log). Errors as GetJson.
Status GetText(ApiClient* api, const std::string& path, std::string* body);

// Maps a non-2xx reply to a Status (exposed for tests). A 401 is
// kUnauthenticated, its message ending with auth_hint when one is given.
Status StatusFromErrorReply(const std::string& what, const HttpReply& reply,
                            const std::string& auth_hint = "");

}  // namespace loadd

#endif  // LOADD_CTL_API_CLIENT_H_
