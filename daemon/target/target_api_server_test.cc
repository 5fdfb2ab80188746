// The demo API over real sockets: a TargetServer on 127.0.0.1 (port 0) with
// two loop threads sharing one store.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <string>
#include <thread>

#include "daemon/target/target_server.h"
#include "daemon/target/target_test_client.h"

namespace loadd {
namespace {

class TargetApiServerTest : public testing::Test {
 protected:
  void SetUp() override {
    TargetOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    server_ = std::make_unique<TargetServer>(options);
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->address().port();
  }

  // Logs in as `user` on a fresh connection; returns the token.
  std::string Login(const std::string& user) {
    Client client(port_);
    Reply reply = client.Call("POST", "/login", "Content-Type: application/json\r\n",
                              "{\"user\": \"" + user + "\", \"password\": \"secret\"}");
    EXPECT_EQ(reply.status, 200) << reply.body;
    rapidjson::Document doc;
    doc.Parse(reply.body.c_str());
    if (!doc.IsObject() || !doc.HasMember("token")) return "";
    EXPECT_EQ(std::string(doc["user"].GetString()), user);
    return doc["token"].GetString();
  }

  std::unique_ptr<TargetServer> server_;
  uint16_t port_ = 0;
};

TEST_F(TargetApiServerTest, LoginSetsASessionCookieThatAuthenticates) {
  Client client(port_);
  Reply reply = client.Call("POST", "/login", "Content-Type: application/json\r\n",
                            R"({"user": "carol", "password": "secret"})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  size_t at = reply.head.find("Set-Cookie: session=");
  ASSERT_NE(at, std::string::npos) << reply.head;
  size_t end = reply.head.find(';', at);
  std::string cookie = reply.head.substr(at + 12, end - at - 12);
  Reply me = client.Call("GET", "/me", "Cookie: " + cookie + "\r\n");
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.body, "{\"user\": \"carol\"}\n");
  EXPECT_EQ(client.Call("GET", "/me").status, 401);
}

TEST_F(TargetApiServerTest, LoginCreateReadDelete) {
  std::string auth = "Authorization: Bearer " + Login("alice") + "\r\n";
  Client client(port_);
  Reply created = client.Call("POST", "/items", auth, R"({"name": "widget"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.head.find("Content-Type: application/json\r\n"), std::string::npos);
  rapidjson::Document doc;
  doc.Parse(created.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << created.body;
  std::string path = "/items/" + std::to_string(doc["id"].GetUint64());

  // Any connection, so any loop thread, sees the item and accepts the token.
  Client other(port_);
  Reply read = other.Call("GET", path, auth);
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body, created.body);
  EXPECT_EQ(other.Call("GET", path).status, 401);

  Reply deleted = client.Call("DELETE", path, auth);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(deleted.head.find("Content-Length"), std::string::npos);
  EXPECT_EQ(other.Call("GET", path, auth).status, 404);
  EXPECT_EQ(client.Get("/").body, "ok\n");  // the built-in routes are untouched
}

TEST_F(TargetApiServerTest, BadLoginAndStatsCountApiResponses) {
  server_->ResetStats();
  Client client(port_);
  Reply bad = client.Call("POST", "/login", "", R"({"user": "a", "password": "x"})");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.body, "{\"error\": \"bad credentials\"}\n");
  EXPECT_EQ(client.Call("GET", "/me").status, 401);
  EXPECT_EQ(client.Call("GET", "/products").status, 200);
  // A response counts once its last byte is written, which may be just after
  // the client has read it.
  TargetStatsSnapshot stats = server_->Stats();
  for (int i = 0; i < 200 && stats.requests < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    stats = server_->Stats();
  }
  EXPECT_EQ(stats.requests, 3u);
  EXPECT_EQ(stats.by_status[401], 2u);
  EXPECT_EQ(stats.by_status[200], 1u);
}

TEST_F(TargetApiServerTest, EchoOverTheWire) {
  Client client(port_);
  Reply echoed = client.Call("POST", "/echo", "Content-Type: text/csv\r\n",
                             std::string(100000, 'z'));
  EXPECT_EQ(echoed.status, 200);
  EXPECT_EQ(echoed.body, std::string(100000, 'z'));
  EXPECT_NE(echoed.head.find("Content-Type: text/csv\r\n"), std::string::npos);

  Reply described = client.Call("GET", "/echo?x=1", "X-Trace-ID: abc\r\n");
  rapidjson::Document doc;
  doc.Parse(described.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << described.body;
  EXPECT_EQ(std::string(doc["query"].GetString()), "x=1");
  EXPECT_EQ(std::string(doc["headers"]["x-trace-id"].GetString()), "abc");
  EXPECT_EQ(std::string(doc["headers"]["content-length"].GetString()), "0");
}

TEST_F(TargetApiServerTest, ShopFlowWithChunkedBody) {
  std::string auth = "Authorization: Bearer " + Login("bob") + "\r\n";
  Client client(port_);
  ASSERT_TRUE(client.Send("POST /cart HTTP/1.1\r\n" + auth +
                          "Transfer-Encoding: chunked\r\n\r\n"
                          "5\r\n{\"pro\r\n9\r\nduct\": 7}\r\n0\r\n\r\n"));
  Reply added = client.Read();
  EXPECT_EQ(added.status, 200);
  EXPECT_EQ(added.body, "{\"cart_items\": 1}\n");
  EXPECT_EQ(client.Call("POST", "/checkout", auth).body, "{\"order\": 1}\n");
  EXPECT_EQ(client.Call("POST", "/checkout", auth).status, 409);
}

}  // namespace
}  // namespace loadd
