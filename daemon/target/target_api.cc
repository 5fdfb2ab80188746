#include "daemon/target/target_api.h"

#include <charconv>
#include <utility>

#include "common/json.h"

namespace loadd {
namespace {

constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kOctetStream = "application/octet-stream";

// What a handler sees: the request, the {id} of its path and, for routes
// that need auth, the verified user.
struct ApiCall {
  const ApiRequest& request;
  UrlParts url;
  uint64_t id;  // 0 when the path has none or it is not a positive number
  const std::string& user;
  const TokenSigner& signer;
  DemoStore& store;
};

Route Json(int status, std::string body) {
  Route route;
  route.status = status;
  route.text = std::move(body);
  route.text += '\n';
  route.content_type = kJsonType;
  return route;
}

Route Error(int status, std::string_view message) {
  std::string body = "{\"error\": ";
  AppendJsonString(&body, message);
  return Json(status, body + "}");
}

// The body parsed as a JSON object; false when it is anything else.
bool ParseObject(std::string_view body, rapidjson::Document* doc) {
  return ParseJson(body, doc).ok() && doc->IsObject();
}

std::string_view StringField(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return std::string_view(it->value.GetString(), it->value.GetStringLength());
}

std::string ItemJson(uint64_t id, std::string_view item) {
  std::string json = "{\"id\": " + std::to_string(id) + ", \"item\": ";
  json.append(item);
  return json + "}";
}

// --- Accounts -------------------------------------------------------------

Route Login(const ApiCall& call) {
  rapidjson::Document doc;
  if (!ParseObject(call.request.body, &doc)) {
    return Error(400, "body must be a JSON object {\"user\": ..., \"password\": ...}");
  }
  std::string_view user = StringField(doc, "user");
  if (user.empty() || user.size() > kMaxUserBytes) {
    return Error(400, "\"user\" must be a string of 1..256 bytes");
  }
  if (StringField(doc, "password") != "secret") return Error(401, "bad credentials");
  std::string body = "{\"token\": ";
  AppendJsonString(&body, call.signer.Mint(user));
  body += ", \"user\": ";
  AppendJsonString(&body, user);
  Route route = Json(200, body + "}");
  // The same token as a session cookie, for clients that keep cookies
  // (browsers, Locust's HttpUser, loadd scenarios).
  route.set_cookie = "session=" + call.signer.Mint(user) + "; Path=/; HttpOnly";
  return route;
}

Route Me(const ApiCall& call) {
  std::string body = "{\"user\": ";
  AppendJsonString(&body, call.user);
  return Json(200, body + "}");
}

// --- Items ----------------------------------------------------------------

Route CreateItem(const ApiCall& call) {
  rapidjson::Document doc;
  if (!ParseObject(call.request.body, &doc)) {
    return Error(400, "item must be a JSON object");
  }
  uint64_t id = call.store.CreateItem(call.request.body);
  return Json(201, ItemJson(id, call.request.body));
}

Route GetItem(const ApiCall& call) {
  std::optional<std::string> item = call.store.GetItem(call.id);
  if (!item) return Error(404, "no such item");
  return Json(200, ItemJson(call.id, *item));
}

Route PutItem(const ApiCall& call) {
  rapidjson::Document doc;
  if (!ParseObject(call.request.body, &doc)) {
    return Error(400, "item must be a JSON object");
  }
  if (!call.store.PutItem(call.id, call.request.body)) return Error(404, "no such item");
  return Json(200, ItemJson(call.id, call.request.body));
}

Route DeleteItem(const ApiCall& call) {
  if (!call.store.DeleteItem(call.id)) return Error(404, "no such item");
  Route route = Json(204, "");
  route.text.clear();  // a 204 has no body
  return route;
}

// --- Echo -----------------------------------------------------------------

bool IsSafeHeaderValue(std::string_view value) {
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

Route EchoBody(const ApiCall& call) {
  Route route;
  route.text.assign(call.request.body);
  std::string_view type = call.request.content_type;
  bool usable =
      !type.empty() && type.size() <= kMaxEchoContentTypeBytes && IsSafeHeaderValue(type);
  route.content_type = usable ? type : kOctetStream;
  return route;
}

// Repeated names are joined with ", ", as HTTP allows.
void AppendHeaders(std::string* out, const std::vector<HeaderField>* headers) {
  *out += '{';
  if (headers != nullptr) {
    bool first = true;
    for (size_t i = 0; i < headers->size(); ++i) {
      const HeaderField& field = (*headers)[i];
      bool seen = false;
      for (size_t j = 0; j < i && !seen; ++j) seen = (*headers)[j].name == field.name;
      if (seen) continue;
      std::string value = field.value;
      for (size_t j = i + 1; j < headers->size(); ++j) {
        if ((*headers)[j].name == field.name) value += ", " + (*headers)[j].value;
      }
      if (!first) *out += ", ";
      first = false;
      AppendJsonString(out, field.name);
      *out += ": ";
      AppendJsonString(out, value);
    }
  }
  *out += '}';
}

Route EchoRequest(const ApiCall& call) {
  std::string body = "{\"method\": ";
  AppendJsonString(&body, call.request.method);
  body += ", \"path\": ";
  AppendJsonString(&body, call.url.path);
  body += ", \"query\": ";
  AppendJsonString(&body, call.url.query);
  body += ", \"headers\": ";
  AppendHeaders(&body, call.request.headers);
  return Json(200, body + "}");
}

// --- Shop -----------------------------------------------------------------

struct Product {
  const char* name;
  int price_cents;
};

constexpr Product kProducts[] = {
    {"Espresso Cup", 450},   {"Coffee Grinder", 3990}, {"French Press", 2400},
    {"Moka Pot", 2950},      {"Milk Frother", 1999},   {"Tea Kettle", 3400},
    {"Travel Mug", 1425},    {"Pour-Over Cone", 1200}, {"Paper Filters", 375},
    {"Bean Canister", 1640}, {"Digital Scale", 2280},  {"Tamper", 1800},
    {"Knock Box", 2150},     {"Latte Glass", 690},     {"Cold Brew Jar", 2700},
    {"Descaler", 860},       {"Barista Apron", 2500},  {"Drip Kettle", 4400},
    {"Cup Warmer", 3120},    {"Gift Card", 5000},
};
constexpr uint64_t kProductCount = sizeof kProducts / sizeof kProducts[0];

// {"id": 3, "name": "French Press", "price": 24.00}; id in 1..kProductCount.
std::string ProductJson(uint64_t id) {
  const Product& product = kProducts[id - 1];
  std::string cents = std::to_string(100 + product.price_cents % 100).substr(1);
  std::string json = "{\"id\": " + std::to_string(id) + ", \"name\": ";
  AppendJsonString(&json, product.name);
  return json + ", \"price\": " + std::to_string(product.price_cents / 100) + "." +
         cents + "}";
}

Route Products(const ApiCall&) {
  static const std::string* list = [] {
    std::string json = "[";
    for (uint64_t id = 1; id <= kProductCount; ++id) {
      json += (id == 1 ? "" : ", ") + ProductJson(id);
    }
    return new std::string(json + "]");
  }();
  return Json(200, *list);
}

Route GetProduct(const ApiCall& call) {
  if (call.id < 1 || call.id > kProductCount) return Error(404, "no such product");
  return Json(200, ProductJson(call.id));
}

Route AddToCart(const ApiCall& call) {
  rapidjson::Document doc;
  if (!ParseObject(call.request.body, &doc)) {
    return Error(400, "body must be a JSON object {\"product\": id}");
  }
  auto product = doc.FindMember("product");
  if (product == doc.MemberEnd() || !product->value.IsInt64()) {
    return Error(400, "\"product\" must be an integer id");
  }
  int64_t id = product->value.GetInt64();
  if (id < 1 || id > static_cast<int64_t>(kProductCount)) {
    return Error(404, "no such product");
  }
  int64_t count = call.store.AddToCart(call.user);
  return Json(200, "{\"cart_items\": " + std::to_string(count) + "}");
}

Route Checkout(const ApiCall& call) {
  uint64_t order = call.store.Checkout(call.user);
  if (order == 0) return Error(409, "cart is empty");
  return Json(200, "{\"order\": " + std::to_string(order) + "}");
}

// --- Route table ----------------------------------------------------------

struct ApiRoute {
  std::string_view method;  // "*": any; "GET" also matches HEAD
  std::string_view path;    // exact, or with `with_id` the part before "/{id}"
  bool with_id;
  bool auth;  // needs a valid bearer token
  bool body;  // keeps the request body
  Route (*handler)(const ApiCall&);
};

constexpr ApiRoute kApiRoutes[] = {
    {"POST", "/login", false, false, true, &Login},
    {"GET", "/me", false, true, false, &Me},
    {"POST", "/items", false, true, true, &CreateItem},
    {"GET", "/items", true, true, false, &GetItem},
    {"PUT", "/items", true, true, true, &PutItem},
    {"DELETE", "/items", true, true, false, &DeleteItem},
    {"POST", "/echo", false, false, true, &EchoBody},
    {"PUT", "/echo", false, false, true, &EchoBody},
    {"PATCH", "/echo", false, false, true, &EchoBody},
    {"*", "/echo", false, false, false, &EchoRequest},
    {"GET", "/products", false, false, false, &Products},
    {"GET", "/products", true, false, false, &GetProduct},
    {"POST", "/cart", false, true, true, &AddToCart},
    {"POST", "/checkout", false, true, false, &Checkout},
};

bool PathMatches(const ApiRoute& route, std::string_view path, std::string_view* id) {
  if (!route.with_id) return path == route.path;
  size_t n = route.path.size();
  if (path.size() <= n + 1 || path.substr(0, n) != route.path || path[n] != '/') {
    return false;
  }
  std::string_view rest = path.substr(n + 1);
  if (rest.find('/') != std::string_view::npos) return false;
  *id = rest;
  return true;
}

bool MethodMatches(std::string_view want, std::string_view method) {
  return want == "*" || want == method || (want == "GET" && method == "HEAD");
}

// The route for method and path, or nullptr; *path_known says whether the
// path belongs to the API at all (another method would match).
const ApiRoute* FindRoute(std::string_view method, std::string_view path,
                          std::string_view* id, bool* path_known) {
  *path_known = false;
  // Cheap rejection for the built-in paths ("/", "/delay/..", "/__stats").
  if (path.size() < 3 ||
      std::string_view("lmiepc").find(path[1]) == std::string_view::npos) {
    return nullptr;
  }
  for (const ApiRoute& route : kApiRoutes) {
    if (!PathMatches(route, path, id)) continue;
    *path_known = true;
    if (MethodMatches(route.method, method)) return &route;
  }
  return nullptr;
}

uint64_t ParseId(std::string_view text) {
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  return ec == std::errc() && end == text.data() + text.size() ? id : 0;
}

// Bytes of the UTF-8 sequence starting `text`, or 0 when it is not a valid,
// shortest-form one (overlong forms and surrogates are invalid).
size_t Utf8SequenceBytes(std::string_view text) {
  unsigned char lead = static_cast<unsigned char>(text[0]);
  size_t len = lead >= 0xc2 && lead <= 0xdf   ? 2
               : lead >= 0xe0 && lead <= 0xef ? 3
               : lead >= 0xf0 && lead <= 0xf4 ? 4
                                              : 0;
  if (len == 0 || text.size() < len) return 0;
  uint32_t cp = lead & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    unsigned char next = static_cast<unsigned char>(text[k]);
    if ((next & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (next & 0x3f);
  }
  if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return 0;
  if (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
  return len;
}

}  // namespace

ApiNeeds DemoApi::NeedsFor(std::string_view method, std::string_view path) {
  std::string_view id;
  bool path_known = false;
  const ApiRoute* route = FindRoute(method, path, &id, &path_known);
  ApiNeeds needs;
  needs.api = path_known;
  needs.body = route != nullptr && route->body;
  needs.headers = path_known && path == "/echo";
  return needs;
}

Route DemoApi::Handle(const ApiRequest& request) {
  UrlParts url = SplitRequestUrl(request.url);
  std::string_view id;
  bool path_known = false;
  const ApiRoute* route = FindRoute(request.method, url.path, &id, &path_known);
  if (route == nullptr) {
    return path_known ? Error(405, "method not allowed") : Error(404, "not found");
  }
  std::string user;
  if (route->auth) {
    std::optional<std::string> verified =
        request.authorization.empty()
            ? signer_.Verify(SessionCookie(request.cookie))
            : signer_.Verify(BearerToken(request.authorization));
    if (!verified) return Error(401, "missing or invalid bearer token");
    user = std::move(*verified);
  }
  ApiCall call{request, url, ParseId(id), user, signer_, store_};
  return route->handler(call);
}

void AppendJsonString(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out += '"';
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : Utf8SequenceBytes(text.substr(i));
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c >= 0x20 && len > 0) {
      out->append(text.substr(i, len));
    } else {  // a control character or a byte outside valid UTF-8
      *out += "\\u00";
      *out += kHex[c >> 4];
      *out += kHex[c & 15];
      len = 1;
    }
    i += len;
  }
  *out += '"';
}

}  // namespace loadd
