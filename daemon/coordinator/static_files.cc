#include "daemon/coordinator/static_files.h"

#include <optional>
#include <string>

#include "common/status.h"
#include "daemon/coordinator/rest_api.h"
#include "daemon/coordinator/rest_routes.h"
#include "web/embedded_files.h"

namespace loadd {
namespace {

// Only the coordinator's own files; the page talks to its own API only.
constexpr char kCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'";

}  // namespace

RestResponse StaticFileResponse(std::string_view name,
                                const std::optional<std::string>& if_none_match) {
  const EmbeddedFile* file = name.empty() ? nullptr : FindEmbeddedFile(name);
  if (file == nullptr) {
    Status missing(
        StatusCode::kNotFound,
        "no such dashboard file: " + Printable(name, 100) + " (the dashboard is at /)");
    return JsonResponse(404, ErrorJson(missing));
  }
  std::string etag = std::string("\"") + file->etag + "\"";
  RestResponse response;
  response.headers = {{"Content-Security-Policy", kCsp},
                      {"X-Content-Type-Options", "nosniff"},
                      {"ETag", etag},
                      {"Cache-Control", "no-cache"}};
  if (if_none_match && *if_none_match == etag) {
    response.code = 304;
    return response;
  }
  response.content_type = std::string(ContentTypeOf(file->name));
  response.body.assign(file->bytes.data(), file->bytes.size());
  return response;
}

}  // namespace loadd
