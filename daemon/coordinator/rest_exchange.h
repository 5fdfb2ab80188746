// RestRequest and RestResponse: one REST exchange as plain values. The
// route handlers (RestApi::Handle, rest_api.h) take and give these, so they
// are tested without a socket; only rest_pistache.cc converts from and to
// Pistache's Request and ResponseWriter (it is the one file that touches
// Pistache's internals, and says why).
#ifndef LOADD_DAEMON_COORDINATOR_REST_EXCHANGE_H_
#define LOADD_DAEMON_COORDINATOR_REST_EXCHANGE_H_

#include <pistache/http_defs.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loadd {

struct RestField {
  std::string name;
  std::string value;
};

struct RestRequest {
  Pistache::Http::Method method = Pistache::Http::Method::Get;
  std::string resource;            // the path, as sent (not percent-decoded)
  std::vector<RestField> query;    // in the order sent, repeats kept, decoded
  std::vector<RestField> headers;  // names as sent
  std::string body;
  std::string peer;  // the client's address, for logs

  // The first header named `name` (case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  // The first query parameter named `name`, or nullopt.
  std::optional<std::string> Query(std::string_view name) const;
  // Every value of the query parameter `name`, in order.
  std::vector<std::string> QueryAll(std::string_view name) const;
};

struct RestResponse {
  int code = 200;
  std::string content_type;        // empty: no Content-Type
  std::vector<RestField> headers;  // beside Content-Type, Content-Length, Connection
  std::string body;
};

// The parameters of a query string ("a=1&b=x%3Dy&a=2", no '?'): split at
// '&', each at its first '=' (none: an empty value), names and values
// percent-decoded ('+' is a space; a '%' not followed by two hex digits
// stays as sent); empty pieces are skipped.
std::vector<RestField> ParseQuery(std::string_view query);

// A JSON answer (application/json, with a final line break).
RestResponse JsonResponse(int code, std::string json);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_EXCHANGE_H_
