// WsConnection against a real peer (Beast's client) on loopback: message assembly, the close codes
// of RFC 6455 for bad input, and sends from other threads arriving whole and in order.
#include "net/ws_connection.hpp"

#include "net/loopback_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace fg::net {
namespace {

// Echoes every message back (text as text, binary as binary); remembers the last connection.
class EchoHandler : public HttpHandler {
 public:
  void OnRequest(const std::shared_ptr<HttpConnection>& conn, Request req) override {
    conn->Respond(Response{http::status::not_found, req.version()});
  }
  void OnUpgrade(const std::shared_ptr<HttpConnection>& conn, Request req) override {
    auto ws = conn->UpgradeToWebSocket(std::move(req));
    std::weak_ptr<WsConnection> weak = ws;
    ws->SetCallbacks({[this, weak] {
                        std::lock_guard lock(mu);
                        last = weak.lock();
                        opened.set_value();
                      },
                      [weak](std::string data, bool binary) {
                        if (auto s = weak.lock()) s->Send(std::make_shared<const std::string>(std::move(data)), binary);
                      },
                      [this] { ++closes; }});
  }
  Response OnBodyTooLarge(const http::request_parser<http::string_body>::value_type& h) override {
    return Response{http::status::payload_too_large, h.version()};
  }
  std::mutex mu;
  std::shared_ptr<WsConnection> last;
  std::promise<void> opened;
  std::atomic<int> closes{0};
};

class WsConnectionTest : public ::testing::Test {
 protected:
  WsConnectionTest() {
    limits.max_payload = 1000;
    server = std::make_unique<testing::LoopbackServer>(loops, handler, limits);
  }
  Limits limits;
  Loops loops{1};  // outlives every socket below
  EchoHandler handler;
  std::unique_ptr<testing::LoopbackServer> server;
};

TEST_F(WsConnectionTest, EchoesTextAndBinaryMessages) {
  testing::WsClient client(server->Port(), "/");
  client.Send("hello");
  EXPECT_EQ(client.Read(), "hello");
  client.Send(std::string("\x00\xFF\x01", 3), true);
  EXPECT_EQ(client.Read(), std::string("\x00\xFF\x01", 3));
  EXPECT_TRUE(client.stream().got_binary());
}

TEST_F(WsConnectionTest, AssemblesAFragmentedMessage) {
  testing::WsClient client(server->Port(), "/");
  client.stream().text(true);
  client.stream().write_some(false, boost::asio::buffer(std::string("frag")));
  client.stream().write_some(false, boost::asio::buffer(std::string("men")));
  client.stream().write_some(true, boost::asio::buffer(std::string("ted")));
  EXPECT_EQ(client.Read(), "fragmented");
}

TEST_F(WsConnectionTest, InvalidUtf8TextClosesWith1007) {
  testing::WsClient client(server->Port(), "/");
  client.Send("\xC0\xAF");
  EXPECT_EQ(client.ReadCloseCode(), ws::kInvalidPayload);
}

TEST_F(WsConnectionTest, AMessageOverMaxPayloadClosesWith1009) {
  testing::WsClient client(server->Port(), "/");
  client.stream().text(true);
  client.stream().write_some(false, boost::asio::buffer(std::string(600, 'a')));
  client.stream().write_some(true, boost::asio::buffer(std::string(600, 'a')));  // 1200 > 1000 in all
  EXPECT_EQ(client.ReadCloseCode(), ws::kTooBig);
}

TEST_F(WsConnectionTest, SendsFromAnotherThreadArriveWholeAndInOrder) {
  testing::WsClient client(server->Port(), "/");
  handler.opened.get_future().wait();
  std::shared_ptr<WsConnection> conn;
  {
    std::lock_guard lock(handler.mu);
    conn = handler.last;
  }
  ASSERT_TRUE(conn);
  std::thread sender([conn] {
    for (int i = 0; i < 500; ++i) conn->Send(std::make_shared<const std::string>("m" + std::to_string(i)), false);
  });
  for (int i = 0; i < 500; ++i) ASSERT_EQ(client.Read(), "m" + std::to_string(i));
  sender.join();
  conn->Close(ws::kNormal);
  EXPECT_EQ(client.ReadCloseCode(), ws::kNormal);
}

TEST_F(WsConnectionTest, AnUpgradeWithoutAKeyIsRefused) {
  auto reply =
      testing::HttpCall(server->Port(), http::verb::get, "/", {},
                        {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"}});
  EXPECT_EQ(reply.status, 400u);
}

}  // namespace
}  // namespace fg::net
