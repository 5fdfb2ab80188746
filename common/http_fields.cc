#include "common/http_fields.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/base64.h"
#include "common/json.h"

namespace loadd {
namespace {

constexpr size_t kMaxQuotedBytes = 60;

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

// Url-encodes the text outside {{ }}; an unclosed "{{" and what follows
// are kept as they are (the template compiler refuses them with its path).
void AppendEncodedLiterals(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    size_t close = open == std::string_view::npos ? open : text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      if (open == std::string_view::npos) {
        AppendUrlEncoded(text.substr(pos), out);
      } else {
        AppendUrlEncoded(text.substr(pos, open - pos), out);
        out->append(text.substr(open));
      }
      return;
    }
    AppendUrlEncoded(text.substr(pos, open - pos), out);
    out->append(text.substr(open, close + 2 - open));
    pos = close + 2;
  }
}

// Reads r's `field` as an object of name: string into out. Names must be
// non-empty and free of CR, LF and NUL; values too unless values_may_break.
Status ReadParams(ObjectReader* r, const char* field, bool values_may_break,
                  HttpFieldList* out) {
  const rapidjson::Value* v = r->Get(field);
  if (v == nullptr) return Status::Ok();
  std::string path = r->FieldPath(field);
  if (!v->IsObject()) return Status::Invalid(path, "must be an object of strings");
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    if (name.empty() || HasCrLfNul(name)) {
      return Status::Invalid(path, "name " + QuoteForMessage(name) +
                                       " must be non-empty, without CR, LF or NUL");
    }
    std::string at = JsonPathField(path, name);
    if (!it->value.IsString()) return Status::Invalid(at, "must be a string");
    std::string value(it->value.GetString(), it->value.GetStringLength());
    if (!values_may_break && HasCrLfNul(value)) {
      return Status::Invalid(at, "must not contain CR, LF or NUL");
    }
    out->emplace_back(std::move(name), std::move(value));
  }
  return Status::Ok();
}

}  // namespace

bool IsHttpToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool HasCrLfNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

std::string QuoteForMessage(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMaxQuotedBytes; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += s.size() > kMaxQuotedBytes ? "...\"" : "\"";
  return out;
}

Status ReadMethod(ObjectReader* r, std::string* method) {
  *method = "GET";
  LOADD_RETURN_IF_ERROR(r->String("method", method));
  std::string upper = *method;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (std::find(std::begin(kMethods), std::end(kMethods), upper) == std::end(kMethods)) {
    return Status::Invalid(r->FieldPath("method"),
                           QuoteForMessage(*method) +
                               " is not one of GET, POST, PUT, DELETE, PATCH, HEAD, "
                               "OPTIONS");
  }
  *method = upper;
  return Status::Ok();
}

Status ReadRequestUrl(ObjectReader* r, const std::string& target, Url* out) {
  std::string url, path;
  LOADD_RETURN_IF_ERROR(r->String("url", &url));
  LOADD_RETURN_IF_ERROR(r->String("path", &path));
  if (!url.empty() && !path.empty()) {
    return Status::Invalid(r->FieldPath("path"), "give either url or path, not both");
  }
  if (url.empty() && path.empty()) {
    if (target.empty()) {
      return Status::Invalid(r->FieldPath("url"),
                             "is required (or set $.target and a path)");
    }
    url = target;
  } else if (!path.empty()) {
    if (target.empty())
      return Status::Invalid(r->FieldPath("path"), "needs $.target to resolve against");
    if (path[0] != '/')
      return Status::Invalid(r->FieldPath("path"), "must start with '/'");
    Result<Url> base = ParseUrl(target);
    if (!base.ok()) return Status::Invalid("$.target", base.status().message());
    std::string prefix = base->target == "/" ? "" : base->target;
    if (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    url = base->scheme + "://" + base->HostHeader() + prefix + path;
  }
  const char* field = path.empty() ? "url" : "path";
  // Validate with each {{template}} masked (they may hold spaces), and keep
  // the raw path and query as the template source.
  std::string masked;
  for (size_t i = 0; i < url.size();) {
    size_t open = url.find("{{", i);
    size_t close = open == std::string::npos ? open : url.find("}}", open + 2);
    if (close == std::string::npos) {
      masked += url.substr(i);
      break;
    }
    masked += url.substr(i, open - i) + "T";
    i = close + 2;
  }
  Result<Url> parsed = ParseUrl(masked);
  if (!parsed.ok())
    return Status::Invalid(r->FieldPath(field), parsed.status().message());
  size_t authority = url.find("://") + 3;
  size_t target_at = url.find_first_of("/?#", authority);
  if (url.substr(authority, target_at - authority).find("{{") != std::string::npos) {
    return Status::Invalid(r->FieldPath(field), "the host cannot be a template");
  }
  std::string target_text = target_at == std::string::npos ? "" : url.substr(target_at);
  size_t hash = target_text.find('#');
  if (hash != std::string::npos) target_text.resize(hash);
  if (target_text.empty() || target_text[0] != '/') target_text = "/" + target_text;
  *out = *parsed;
  out->target = target_text;
  return Status::Ok();
}

Status ReadHeaderFields(ObjectReader* r, HttpFieldList* out) {
  const rapidjson::Value* headers = r->Get("headers");
  if (headers == nullptr) return Status::Ok();
  std::string path = r->FieldPath("headers");
  if (!headers->IsObject() || headers->MemberCount() > kMaxHeaderFields) {
    return Status::Invalid(path, "must be an object of at most " +
                                     std::to_string(kMaxHeaderFields) +
                                     " name: string headers");
  }
  for (auto it = headers->MemberBegin(); it != headers->MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    if (!IsHttpToken(name)) {
      return Status::Invalid(path, "header name " + QuoteForMessage(name) +
                                       " is not a valid header name (RFC 9110 token: "
                                       "letters, digits and !#$%&'*+-.^_`|~; no space, "
                                       "colon, CR or LF)");
    }
    std::string at = JsonPathField(path, name);
    if (!it->value.IsString()) {
      return Status::Invalid(
          at, std::string("must be a string, got ") + JsonTypeName(it->value));
    }
    std::string value(it->value.GetString(), it->value.GetStringLength());
    if (HasCrLfNul(value)) return Status::Invalid(at, "must not contain CR, LF or NUL");
    out->emplace_back(std::move(name), std::move(value));
  }
  return Status::Ok();
}

Status ReadQueryFields(ObjectReader* r, HttpFieldList* out) {
  return ReadParams(r, "query", /*values_may_break=*/false, out);
}

Status ReadFormFields(ObjectReader* r, HttpFieldList* out) {
  return ReadParams(r, "form", /*values_may_break=*/true, out);
}

Status ReadAuthFields(ObjectReader* r, bool* present, AuthFields* out) {
  const rapidjson::Value* v = r->Get("auth");
  *present = v != nullptr;
  if (v == nullptr) return Status::Ok();
  std::string path = r->FieldPath("auth");
  ObjectReader a(*v, path);
  LOADD_RETURN_IF_ERROR(a.String("bearer", &out->bearer));
  const rapidjson::Value* basic = a.Get("basic");
  LOADD_RETURN_IF_ERROR(a.Finish());
  if (!out->bearer.empty() == (basic != nullptr)) {
    return Status::Invalid(
        path, "give one of bearer (a token template) or basic {user, password}");
  }
  if (HasCrLfNul(out->bearer)) {
    return Status::Invalid(path + ".bearer", "must not contain CR, LF or NUL");
  }
  if (basic == nullptr) return Status::Ok();
  ObjectReader b(*basic, path + ".basic");
  LOADD_RETURN_IF_ERROR(b.String("user", &out->user, true));
  LOADD_RETURN_IF_ERROR(b.String("password", &out->password, true));
  LOADD_RETURN_IF_ERROR(b.Finish());
  if (out->user.find(':') != std::string::npos || HasControl(out->user)) {
    return Status::Invalid(path + ".basic.user",
                           "must not contain ':' or control characters (RFC 7617)");
  }
  if (HasControl(out->password)) {
    return Status::Invalid(path + ".basic.password",
                           "must not contain control characters (RFC 7617)");
  }
  return Status::Ok();
}

std::string AuthorizationValue(const AuthFields& auth) {
  if (!auth.bearer.empty()) return "Bearer " + auth.bearer;
  return "Basic " + Base64Encode(auth.user + ":" + auth.password);
}

void AppendUrlEncoded(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

std::string EncodeParams(const HttpFieldList& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    AppendEncodedLiterals(name, &out);
    out += '=';
    AppendEncodedLiterals(value, &out);
  }
  return out;
}

}  // namespace loadd
