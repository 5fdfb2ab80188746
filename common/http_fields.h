// The HTTP fields of a plan's requests: method, URL or path, header names
// and values, query and form parameters, and auth credentials. Both plan
// forms (`requests` and `scenarios` steps) read these fields through the
// functions below, so each rule is written once and every refusal names the
// JSON path at fault (and quotes the offending name, escaped).
//
// The rules (docs/plan.md, "Request fields"):
// - method: one of kMethods, any case (stored upper case);
// - url / path: http(s), no space or control character (common/url.h);
// - header names: RFC 9110 tokens; header values: no CR, LF or NUL;
// - query names and values: no CR, LF or NUL; both are url-encoded;
// - form names: no CR, LF or NUL; names and values are url-encoded;
// - auth.bearer: no CR, LF or NUL; auth.basic.user: no ':' and no control
//   character, auth.basic.password: no control character (RFC 7617).
// Text inside {{ }} is a template expression: it is left as is here and its
// value is escaped when rendered (common/template.h).
//
// Pure functions of their input; thread-compatible.
#ifndef LOADD_COMMON_HTTP_FIELDS_H_
#define LOADD_COMMON_HTTP_FIELDS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json_reader.h"
#include "common/status.h"
#include "common/url.h"

namespace loadd {

inline constexpr const char* kMethods[] = {"GET",   "POST", "PUT",    "DELETE",
                                           "PATCH", "HEAD", "OPTIONS"};
inline constexpr size_t kMaxHeaderFields = 64;

// Ordered name/value pairs as the plan gives them (JSON object order).
using HttpFieldList = std::vector<std::pair<std::string, std::string>>;

// RFC 9110 section 5.6.2 token: one or more of A-Z a-z 0-9 !#$%&'*+-.^_`|~.
bool IsHttpToken(std::string_view s);
// Whether s holds CR, LF or NUL (RFC 9110 section 5.5: never valid in a field).
bool HasCrLfNul(std::string_view s);
// s in double quotes for an error message: CR, LF, tab as \r \n \t, other
// control and non-ASCII bytes as \xNN, cut after 60 bytes ("...").
std::string QuoteForMessage(std::string_view s);

// r's "method": default GET, accepted in any case, stored upper case.
Status ReadMethod(ObjectReader* r, std::string* method);

// r's "url", or "path" resolved against `target` (the plan's base URL; a
// base path in it is kept). {{templates}} are allowed in the path and query,
// not in the host. out->target is the raw path and query (the template
// source for scenario steps).
Status ReadRequestUrl(ObjectReader* r, const std::string& target, Url* out);

// r's "headers": an object of at most kMaxHeaderFields name: string. A bad
// name is refused at the "headers" path (the name quoted in the message), a
// bad value at "headers.NAME".
Status ReadHeaderFields(ObjectReader* r, HttpFieldList* out);

// r's "query" (values must not hold CR, LF or NUL) or "form" (values may hold
// anything: they are encoded), an object of name: string. Names must not
// be empty nor hold CR, LF or NUL (refused at the field's path, the name
// quoted).
Status ReadQueryFields(ObjectReader* r, HttpFieldList* out);
Status ReadFormFields(ObjectReader* r, HttpFieldList* out);

// r's "auth": {"bearer": TOKEN} or {"basic": {"user", "password"}}.
// *present is false when the field is absent.
struct AuthFields {
  std::string bearer;  // a template source; empty for basic
  std::string user;
  std::string password;
};
Status ReadAuthFields(ObjectReader* r, bool* present, AuthFields* out);
// The Authorization header value: "Bearer TOKEN" (TOKEN still a template
// source) or "Basic " + base64(user ":" password).
std::string AuthorizationValue(const AuthFields& auth);

// Appends s percent-encoded: every byte but A-Z a-z 0-9 - . _ ~ becomes %XX
// (valid in a URL query and in application/x-www-form-urlencoded).
void AppendUrlEncoded(std::string_view s, std::string* out);
// "name=value&..." with the literal text of names and values url-encoded
// and each {{expression}} kept for the template to render (and encode).
std::string EncodeParams(const HttpFieldList& params);

}  // namespace loadd

#endif  // LOADD_COMMON_HTTP_FIELDS_H_
