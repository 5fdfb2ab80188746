#include "daemon/target/target_api.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace loadd {
namespace {

// Who a request claims to be: a token minted for "alice" or "bob", a forged
// or malformed one, or no Authorization header.
enum class Auth { kNone, kAlice, kBob, kForged, kBasic };

struct Step {
  const char* method;
  const char* url;
  Auth auth;
  const char* body;
  int status;
  const char* want;  // the exact body, without the JSON's trailing newline; nullptr: any
};

class DemoApiTest : public testing::Test {
 protected:
  Route Call(const char* method, const char* url, Auth auth = Auth::kNone,
             std::string_view body = "", std::string_view content_type = "") {
    std::string authorization;
    switch (auth) {
      case Auth::kNone:
        break;
      case Auth::kAlice:
        authorization = "Bearer " + signer_.Mint("alice");
        break;
      case Auth::kBob:
        authorization = "bearer  " + signer_.Mint("bob") + " ";
        break;
      case Auth::kForged:
        authorization = "Bearer " + TokenSigner(3, 4).Mint("alice");
        break;
      case Auth::kBasic:
        authorization = "Basic YWxpY2U6c2VjcmV0";
        break;
    }
    ApiRequest request;
    request.method = method;
    request.url = url;
    request.authorization = authorization;
    request.content_type = content_type;
    request.body = body;
    request.headers = &headers_;
    return api_.Handle(request);
  }

  // Runs the steps in order against one store.
  void Run(const std::vector<Step>& steps) {
    for (const Step& step : steps) {
      SCOPED_TRACE(std::string(step.method) + " " + step.url + " " + step.body);
      Route route = Call(step.method, step.url, step.auth, step.body);
      EXPECT_EQ(route.status, step.status);
      EXPECT_EQ(route.kind, RouteKind::kPlain);
      EXPECT_EQ(route.content_type, "application/json");
      if (step.want == nullptr) continue;
      EXPECT_EQ(route.text, step.status == 204 ? "" : std::string(step.want) + "\n");
    }
  }

  TokenSigner signer_{1, 2};
  DemoApi api_{signer_, DemoStoreLimits()};
  std::vector<HeaderField> headers_;
};

constexpr const char* kBadCredentials = R"({"error": "bad credentials"})";
constexpr const char* kNoToken = R"({"error": "missing or invalid bearer token"})";

TEST_F(DemoApiTest, LoginAndTokenCheck) {
  Run({
      {"POST", "/login", Auth::kNone, R"({"user": "alice", "password": "nope"})", 401,
       kBadCredentials},
      {"POST", "/login", Auth::kNone, R"({"user": "alice"})", 401, kBadCredentials},
      {"POST", "/login", Auth::kNone, R"({"user": "alice", "password": 7})", 401,
       kBadCredentials},
      {"POST", "/login", Auth::kNone, R"({"user": "alice", "password": )", 400, nullptr},
      {"POST", "/login", Auth::kNone, R"(["alice", "secret"])", 400, nullptr},
      {"POST", "/login", Auth::kNone, R"({"user": "", "password": "secret"})", 400,
       nullptr},
      {"POST", "/login", Auth::kNone, R"({"user": 5, "password": "secret"})", 400,
       nullptr},
      {"POST", "/login", Auth::kNone, "", 400, nullptr},
      {"GET", "/login", Auth::kNone, "", 405, R"({"error": "method not allowed"})"},
      {"GET", "/me", Auth::kAlice, "", 200, R"({"user": "alice"})"},
      {"GET", "/me?x=1", Auth::kBob, "", 200, R"({"user": "bob"})"},
      {"HEAD", "/me", Auth::kAlice, "", 200, nullptr},
      {"GET", "/me", Auth::kNone, "", 401, kNoToken},
      {"GET", "/me", Auth::kForged, "", 401, kNoToken},
      {"GET", "/me", Auth::kBasic, "", 401, kNoToken},
      {"POST", "/me", Auth::kAlice, "", 405, nullptr},
  });
}

TEST_F(DemoApiTest, LoginAnswersTheTokenAndTheUser) {
  Route route =
      Call("POST", "/login", Auth::kNone, R"({"user":"alice","password":"secret"})");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.text,
            "{\"token\": \"" + signer_.Mint("alice") + "\", \"user\": \"alice\"}\n");
  EXPECT_EQ(route.set_cookie, "session=" + signer_.Mint("alice") + "; Path=/; HttpOnly");
}

TEST_F(DemoApiTest, TheSessionCookieAuthenticatesWithoutABearerToken) {
  std::string cookie = "theme=dark; session=" + signer_.Mint("bob");
  ApiRequest request;
  request.method = "GET";
  request.url = "/me";
  request.cookie = cookie;
  request.headers = &headers_;
  Route route = api_.Handle(request);
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.text, "{\"user\": \"bob\"}\n");
  std::string forged = "session=" + TokenSigner(3, 4).Mint("bob");
  request.cookie = forged;
  EXPECT_EQ(api_.Handle(request).status, 401);
  // ApiRequest holds string_views: the cookie text must outlive the call.
  std::string other_name = "sessionx=" + signer_.Mint("bob");
  request.cookie = other_name;
  EXPECT_EQ(api_.Handle(request).status, 401);
}

TEST_F(DemoApiTest, LoginRejectsAnOverlongUser) {
  std::string body = "{\"user\": \"" + std::string(kMaxUserBytes + 1, 'u') +
                     "\", \"password\": \"secret\"}";
  EXPECT_EQ(Call("POST", "/login", Auth::kNone, body).status, 400);
}

TEST_F(DemoApiTest, ItemCrud) {
  Run({
      {"POST", "/items", Auth::kNone, R"({"a": 1})", 401, kNoToken},
      {"POST", "/items", Auth::kAlice, R"({"a": 1})", 201,
       R"({"id": 1, "item": {"a": 1}})"},
      {"POST", "/items", Auth::kBob, R"({"b": [2]})", 201,
       R"({"id": 2, "item": {"b": [2]}})"},
      {"GET", "/items/1", Auth::kBob, "", 200, R"({"id": 1, "item": {"a": 1}})"},
      {"GET", "/items/1", Auth::kNone, "", 401, kNoToken},
      {"PUT", "/items/1", Auth::kAlice, R"({"a": 3})", 200,
       R"({"id": 1, "item": {"a": 3}})"},
      {"GET", "/items/1", Auth::kAlice, "", 200, R"({"id": 1, "item": {"a": 3}})"},
      {"DELETE", "/items/1", Auth::kAlice, "", 204, ""},
      {"GET", "/items/1", Auth::kAlice, "", 404, R"({"error": "no such item"})"},
      {"DELETE", "/items/1", Auth::kAlice, "", 404, nullptr},
      {"PUT", "/items/1", Auth::kAlice, R"({"a": 4})", 404, nullptr},
      {"GET", "/items/2", Auth::kAlice, "", 200, R"({"id": 2, "item": {"b": [2]}})"},
      {"GET", "/items/abc", Auth::kAlice, "", 404, nullptr},
      {"GET", "/items/0", Auth::kAlice, "", 404, nullptr},
      {"GET", "/items", Auth::kAlice, "", 405, nullptr},
      {"PATCH", "/items/2", Auth::kAlice, "{}", 405, nullptr},
  });
}

TEST_F(DemoApiTest, ItemsMustBeJsonObjects) {
  Run({
      {"POST", "/items", Auth::kAlice, "", 400,
       R"({"error": "item must be a JSON object"})"},
      {"POST", "/items", Auth::kAlice, "[1, 2]", 400, nullptr},
      {"POST", "/items", Auth::kAlice, "\"text\"", 400, nullptr},
      {"POST", "/items", Auth::kAlice, "{\"a\": 1", 400, nullptr},
      {"POST", "/items", Auth::kAlice, "{\"a\": 1} {}", 400, nullptr},
      {"POST", "/items", Auth::kAlice, "{\"a\": \"\xff\"}", 400, nullptr},
      {"POST", "/items", Auth::kAlice, std::string(40, '[').c_str(), 400, nullptr},
      {"POST", "/items", Auth::kAlice, " {} ", 201, nullptr},
      {"PUT", "/items/1", Auth::kAlice, "nope", 400, nullptr},
  });
}

TEST_F(DemoApiTest, ShopFlow) {
  Run({
      {"GET", "/products/1", Auth::kNone, "", 200,
       R"({"id": 1, "name": "Espresso Cup", "price": 4.50})"},
      {"GET", "/products/20", Auth::kNone, "", 200,
       R"({"id": 20, "name": "Gift Card", "price": 50.00})"},
      {"GET", "/products/21", Auth::kNone, "", 404, R"({"error": "no such product"})"},
      {"GET", "/products/0", Auth::kNone, "", 404, nullptr},
      {"GET", "/products/x", Auth::kNone, "", 404, nullptr},
      {"POST", "/checkout", Auth::kAlice, "", 409, R"({"error": "cart is empty"})"},
      {"POST", "/cart", Auth::kNone, R"({"product": 3})", 401, kNoToken},
      {"POST", "/cart", Auth::kAlice, R"({"product": 3})", 200, R"({"cart_items": 1})"},
      {"POST", "/cart", Auth::kAlice, R"({"product": 4})", 200, R"({"cart_items": 2})"},
      {"POST", "/cart", Auth::kAlice, R"({"product": 99})", 404, nullptr},
      {"POST", "/cart", Auth::kAlice, R"({"product": "3"})", 400, nullptr},
      {"POST", "/cart", Auth::kAlice, R"({"product": 1.5})", 400, nullptr},
      {"POST", "/cart", Auth::kAlice, "product=3", 400, nullptr},
      {"POST", "/cart", Auth::kBob, R"({"product": 5})", 200, R"({"cart_items": 1})"},
      {"POST", "/checkout", Auth::kNone, "", 401, nullptr},
      {"POST", "/checkout", Auth::kAlice, "", 200, R"({"order": 1})"},
      {"POST", "/checkout", Auth::kAlice, "", 409, nullptr},
      {"POST", "/checkout", Auth::kBob, "", 200, R"({"order": 2})"},
      {"GET", "/checkout", Auth::kBob, "", 405, nullptr},
  });
}

TEST_F(DemoApiTest, ProductListHasTwentyProducts) {
  Route route = Call("GET", "/products");
  ASSERT_EQ(route.status, 200);
  rapidjson::Document doc;
  doc.Parse(route.text.c_str());
  ASSERT_TRUE(doc.IsArray()) << route.text;
  ASSERT_EQ(doc.Size(), 20u);
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    EXPECT_EQ(doc[i]["id"].GetInt(), static_cast<int>(i) + 1);
    EXPECT_TRUE(doc[i]["name"].IsString());
    EXPECT_GT(doc[i]["price"].GetDouble(), 0.0);
  }
}

TEST_F(DemoApiTest, EchoSendsTheBodyBackWithItsType) {
  Route route = Call("POST", "/echo", Auth::kNone, "a,b\n1,2\n", "text/csv");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.text, "a,b\n1,2\n");
  EXPECT_EQ(route.content_type, "text/csv");
  EXPECT_EQ(Call("PUT", "/echo", Auth::kNone, "x").content_type,
            "application/octet-stream");
  EXPECT_EQ(Call("POST", "/echo", Auth::kNone, "x", std::string(200, 't')).content_type,
            "application/octet-stream");
}

TEST_F(DemoApiTest, EchoDescribesTheRequest) {
  headers_ = {{"host", "t"}, {"x-a", "1"}, {"x-q", "say \"hi\"\x01"}, {"x-a", "2"}};
  Route route = Call("GET", "/echo?x=1&y=%20");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.content_type, "application/json");
  EXPECT_EQ(route.text,
            R"({"method": "GET", "path": "/echo", "query": "x=1&y=%20", "headers": )"
            R"({"host": "t", "x-a": "1, 2", "x-q": "say \"hi\"\u0001"}})"
            "\n");
  rapidjson::Document doc;
  doc.Parse(route.text.c_str());
  EXPECT_FALSE(doc.HasParseError());
}

struct NeedsCase {
  const char* method;
  const char* path;
  bool api;
  bool body;
  bool headers;
};

const NeedsCase kNeedsCases[] = {
    {"GET", "/", false, false, false},
    {"GET", "/delay/10ms", false, false, false},
    {"POST", "/bytes/10", false, false, false},
    {"GET", "/__stats", false, false, false},
    {"GET", "/items/1/x", false, false, false},
    {"GET", "/login/", false, false, false},
    {"GET", "/loginx", false, false, false},
    {"POST", "/login", true, true, false},
    {"GET", "/login", true, false, false},  // 405
    {"GET", "/me", true, false, false},
    {"POST", "/items", true, true, false},
    {"PUT", "/items/7", true, true, false},
    {"GET", "/items/7", true, false, false},
    {"POST", "/echo", true, true, true},
    {"GET", "/echo", true, false, true},
    {"HEAD", "/products", true, false, false},
    {"POST", "/cart", true, true, false},
    {"POST", "/checkout", true, false, false},
};

TEST(DemoApiNeedsTest, Table) {
  for (const NeedsCase& c : kNeedsCases) {
    ApiNeeds needs = DemoApi::NeedsFor(c.method, c.path);
    EXPECT_EQ(needs.api, c.api) << c.method << " " << c.path;
    EXPECT_EQ(needs.body, c.body) << c.method << " " << c.path;
    EXPECT_EQ(needs.headers, c.headers) << c.method << " " << c.path;
  }
}

TEST(TokenTest, RoundTripsAnyUser) {
  TokenSigner signer(7, 9);
  for (const std::string& user : std::vector<std::string>{
           "alice", "a.b.c", "x y%", "üser", std::string("n\0l", 3)}) {
    std::string token = signer.Mint(user);
    EXPECT_EQ(token.find_first_of(" \"\r\n"), std::string::npos) << token;
    std::optional<std::string> back = signer.Verify(token);
    ASSERT_TRUE(back.has_value()) << token;
    EXPECT_EQ(*back, user);
    EXPECT_FALSE(TokenSigner(7, 10).Verify(token).has_value()) << token;
  }
  EXPECT_EQ(signer.Mint("a.b").substr(0, 8), "t.a%2eb.");
}

TEST(TokenTest, RejectsTamperedTokens) {
  TokenSigner signer(7, 9);
  std::string good = signer.Mint("alice");
  std::string other_user = good;
  other_user[2] = 'A';
  std::string other_sum = good;
  other_sum.back() = other_sum.back() == '0' ? '1' : '0';
  for (const std::string& bad :
       {other_user, other_sum, std::string("t.%61lice") + good.substr(7), good + "0",
        good.substr(1), std::string(""), std::string("t..0123456789abcdef"),
        std::string("t.%zz.0123456789abcdef"), std::string("t.al%.0123456789abcdef")}) {
    EXPECT_FALSE(signer.Verify(bad).has_value()) << bad;
  }
}

TEST(TokenTest, BearerToken) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("  bEaReR \t abc  "), "abc");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Bearerabc"), "");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken(""), "");
}

TEST(DemoStoreTest, EvictsTheOldestItemsAtTheCountAndByteBounds) {
  DemoStoreLimits limits;
  limits.max_items = 3;
  limits.max_item_bytes = 10;
  DemoStore store(limits);
  EXPECT_EQ(store.CreateItem("{}"), 1u);
  EXPECT_EQ(store.CreateItem("{}"), 2u);
  EXPECT_EQ(store.CreateItem("{}"), 3u);
  EXPECT_EQ(store.CreateItem("{}"), 4u);
  EXPECT_EQ(store.item_count(), 3u);
  EXPECT_FALSE(store.GetItem(1).has_value());
  EXPECT_EQ(store.CreateItem("{\"a\": 1}"), 5u);  // 8 bytes: only 4 stays
  EXPECT_EQ(store.item_count(), 2u);
  EXPECT_TRUE(store.GetItem(4).has_value());
  EXPECT_TRUE(store.PutItem(4, "{\"aa\": 1}"));  // 9 + 8 bytes: 5 goes, 4 stays
  EXPECT_FALSE(store.GetItem(5).has_value());
  EXPECT_EQ(*store.GetItem(4), "{\"aa\": 1}");
  EXPECT_EQ(store.CreateItem(std::string(20, ' ')), 6u);  // too big: stored alone
  EXPECT_EQ(store.item_count(), 1u);
}

TEST(DemoStoreTest, CartsAreBounded) {
  DemoStoreLimits limits;
  limits.max_carts = 2;
  DemoStore store(limits);
  EXPECT_EQ(store.AddToCart("a"), 1);
  EXPECT_EQ(store.AddToCart("b"), 1);
  EXPECT_EQ(store.AddToCart("a"), 2);
  EXPECT_EQ(store.AddToCart("c"), 1);  // drops a, the oldest cart
  EXPECT_EQ(store.Checkout("a"), 0u);
  EXPECT_EQ(store.Checkout("b"), 1u);
  EXPECT_EQ(store.Checkout("c"), 2u);
  EXPECT_EQ(store.Checkout("c"), 0u);
}

struct JsonStringCase {
  std::string text;
  const char* want;
};

TEST(AppendJsonStringTest, AlwaysValidJson) {
  const JsonStringCase cases[] = {
      {"plain", R"("plain")"},
      {"q\"b\\", R"("q\"b\\")"},
      {"tab\tnl\n", R"("tab\u0009nl\u000a")"},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
      {"\xff\xc3", R"("\u00ff\u00c3")"},
      {"\xed\xa0\x80", R"("\u00ed\u00a0\u0080")"},  // a surrogate
      {"\xc0\xaf", R"("\u00c0\u00af")"},            // overlong
      {std::string("\0", 1), R"("\u0000")"},
  };
  for (const JsonStringCase& c : cases) {
    std::string out;
    AppendJsonString(&out, c.text);
    EXPECT_EQ(out, c.want);
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(out.c_str(), out.size());
    EXPECT_FALSE(doc.HasParseError()) << out;
  }
}

}  // namespace
}  // namespace loadd
