#include "daemon/coordinator/static_files.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/status.h"
#include "daemon/coordinator/rest_api.h"
#include "daemon/coordinator/rest_routes.h"
#include "web/embedded_files.h"

namespace loadd {
namespace {

namespace Http = Pistache::Http;

// A response header with a fixed value (Pistache 0.0.5 writes only typed
// headers into responses).
template <typename Tag>
class ValueHeader final : public Http::Header::Header {
 public:
  explicit ValueHeader(std::string value) : value_(std::move(value)) {}
  static constexpr const char* Name = Tag::kName;
  static constexpr uint64_t Hash = Http::Header::detail::hash(Tag::kName);
  const char* name() const override { return Name; }
  uint64_t hash() const override { return Hash; }
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string value_;
};

struct ContentTypeTag {
  static constexpr char kName[] = "Content-Type";
};
struct CspTag {
  static constexpr char kName[] = "Content-Security-Policy";
};
struct ETagTag {
  static constexpr char kName[] = "ETag";
};
struct NoSniffTag {
  static constexpr char kName[] = "X-Content-Type-Options";
};

// Only the coordinator's own files; the page talks to its own API only.
constexpr char kCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'";

template <typename Tag>
void AddHeader(Http::ResponseWriter& response, std::string value) {
  response.headers().add(std::make_shared<ValueHeader<Tag>>(std::move(value)));
}

}  // namespace

void ServeStaticFile(const Http::Request& request, std::string_view name,
                     Http::ResponseWriter& response) {
  const EmbeddedFile* file = name.empty() ? nullptr : FindEmbeddedFile(name);
  if (file == nullptr) {
    Status missing(
        StatusCode::kNotFound,
        "no such dashboard file: " + Printable(name, 100) + " (the dashboard is at /)");
    response.setMime(MIME(Application, Json));
    response.send(Http::Code::Not_Found, ErrorJson(missing) + "\n");
    return;
  }
  std::string etag = std::string("\"") + file->etag + "\"";
  AddHeader<CspTag>(response, kCsp);
  AddHeader<NoSniffTag>(response, "nosniff");
  AddHeader<ETagTag>(response, etag);
  response.headers().add<Http::Header::CacheControl>(Http::CacheDirective::NoCache);
  std::optional<Http::Header::Raw> match = request.headers().tryGetRaw("If-None-Match");
  if (match && match->value() == etag) {
    response.send(Http::Code::Not_Modified);
    return;
  }
  AddHeader<ContentTypeTag>(response, std::string(ContentTypeOf(file->name)));
  response.send(Http::Code::Ok, file->bytes.data(), file->bytes.size());
}

}  // namespace loadd
