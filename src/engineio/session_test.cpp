// The Engine.IO session through engineio::Server on a real loop: the polling handshake, messages
// both ways over polling and WebSocket, the upgrade, heartbeats and their timeout, and the answers
// to bad requests.
#include "engineio/server.hpp"

#include "engineio/engine_test_support.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <future>
#include <mutex>
#include <thread>

namespace fg::engineio {
namespace {

using net::http::verb;
namespace json = boost::json;

// Records what sessions say and echoes "echo:<data>" back for every message.
class Recorder : public SessionHandler {
 public:
  explicit Recorder(std::weak_ptr<Session> s) : session(std::move(s)) {}
  void OnMessage(std::string data, bool binary) override {
    {
      std::lock_guard lock(mu);
      messages.push_back(data);
    }
    if (auto s = session.lock()) s->Send(std::make_shared<const std::string>(binary ? data : "4echo:" + data), binary);
  }
  void OnClose(std::string_view r) override {
    std::lock_guard lock(mu);
    reason = std::string(r);
    closed.set_value();
  }
  std::weak_ptr<Session> session;
  std::mutex mu;
  std::vector<std::string> messages;
  std::string reason;
  std::promise<void> closed;
};

class SessionTest : public ::testing::Test {
 protected:
  // Heartbeats far apart unless a test is about them, so no ping lands in another test's answers.
  explicit SessionTest(std::chrono::milliseconds ping_interval = std::chrono::seconds(30)) {
    config.options.ping_interval = ping_interval;
    config.options.ping_timeout = std::chrono::milliseconds(1000);
    config.options.max_payload = 1000;
    limits.max_payload = 1000;
    engine = std::make_unique<Server>(config, limits, [this](const std::shared_ptr<Session>& s) {
      auto r = std::make_shared<Recorder>(s);
      s->SetHandler(r);
      std::lock_guard lock(mu);
      recorder = r;
    });
    front = std::make_unique<testing::Front>(*engine);
    server = std::make_unique<net::testing::LoopbackServer>(loops, *front, limits);
  }
  ~SessionTest() override {
    testing::CloseAllSessions(*engine);
    server.reset();  // loops stop before the engine goes
  }
  net::testing::HttpReply Call(verb v, const std::string& query, std::string body = {}) {
    return net::testing::HttpCall(server->Port(), v, "/socket.io/?EIO=4&transport=polling" + query, std::move(body));
  }
  // Opens a polling session; returns its sid.
  std::string Open() {
    auto r = Call(verb::get, "");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body[0], '0');
    auto open = json::parse(r.body.substr(1)).as_object();
    EXPECT_EQ(open.at("pingInterval").as_int64(), config.options.ping_interval.count());
    EXPECT_EQ(open.at("maxPayload").as_int64(), 1000);
    EXPECT_EQ(open.at("upgrades").as_array().size(), 1u);
    return std::string(open.at("sid").as_string());
  }
  std::shared_ptr<Recorder> Rec() {
    std::lock_guard lock(mu);
    return recorder;
  }
  ServerConfig config;
  Limits limits;
  net::Loops loops{1};  // outlives the sessions and their sockets
  std::unique_ptr<Server> engine;
  std::unique_ptr<testing::Front> front;
  std::unique_ptr<net::testing::LoopbackServer> server;
  std::mutex mu;
  std::shared_ptr<Recorder> recorder;
};

TEST_F(SessionTest, PollingCarriesMessagesBothWays) {
  const auto sid = Open();
  EXPECT_EQ(Call(verb::post, "&sid=" + sid,
                 "4hello\x1e"
                 "4world")
                .body,
            "ok");
  auto r = Call(verb::get, "&sid=" + sid);
  EXPECT_EQ(r.body,
            "4echo:hello\x1e"
            "4echo:world");
  EXPECT_EQ(Rec()->messages, (std::vector<std::string>{"hello", "world"}));
}

TEST_F(SessionTest, BadRequestsGetTheProtocolsErrors) {
  EXPECT_EQ(Call(verb::get, "&sid=nope").status, 400u);  // unknown session
  auto r = net::testing::HttpCall(server->Port(), verb::get, "/socket.io/?EIO=3&transport=polling");
  EXPECT_EQ(r.status, 400u);  // unsupported protocol version
  const auto sid = Open();
  EXPECT_EQ(Call(verb::post, "&sid=" + sid, "9bad").status, 400u);  // a packet type that does not exist
  Rec()->closed.get_future().wait();
  EXPECT_EQ(Rec()->reason, "parse error");
}

TEST_F(SessionTest, ABodyOverMaxPayloadIsRefused) {
  const auto sid = Open();
  EXPECT_EQ(Call(verb::post, "&sid=" + sid, "4" + std::string(1200, 'x')).status, 413u);
}

class PingTest : public SessionTest {
 protected:
  PingTest() : SessionTest(std::chrono::milliseconds(200)) {}
};

TEST_F(PingTest, AMissingPongClosesTheSession) {
  const auto sid = Open();
  EXPECT_EQ(Call(verb::get, "&sid=" + sid).body, "2");  // the ping, after pingInterval
  // no pong: closed after pingTimeout
  ASSERT_EQ(Rec()->closed.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(Rec()->reason, "ping timeout");
}

TEST_F(PingTest, AnsweredPingsKeepItOpen) {
  const auto sid = Open();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call(verb::get, "&sid=" + sid).body, "2");
    EXPECT_EQ(Call(verb::post, "&sid=" + sid, "3").body, "ok");
  }
  EXPECT_EQ(Rec()->closed.get_future().wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
}

TEST_F(SessionTest, UpgradesFromPollingToWebSocket) {
  const auto sid = Open();
  net::testing::WsClient ws(server->Port(), "/socket.io/?EIO=4&transport=websocket&sid=" + sid);
  ws.Send("2probe");
  EXPECT_EQ(ws.Read(), "3probe");
  EXPECT_EQ(Call(verb::get, "&sid=" + sid).body, "6");  // the pending poll is released with a noop
  ws.Send("5");
  ws.Send("4over-ws");
  EXPECT_EQ(ws.Read(), "4echo:over-ws");
  ws.Send(std::string("\x01\x02", 2), true);
  EXPECT_EQ(ws.Read(), std::string("\x01\x02", 2));
  EXPECT_EQ(Call(verb::get, "&sid=" + sid).status, 400u);  // polling is over for this session
}

TEST_F(SessionTest, WebSocketFromTheStart) {
  net::testing::WsClient ws(server->Port(), "/socket.io/?EIO=4&transport=websocket");
  const auto open = ws.Read();
  ASSERT_EQ(open[0], '0');
  EXPECT_TRUE(json::parse(open.substr(1)).as_object().at("upgrades").as_array().empty());
  ws.Send("4hi");
  EXPECT_EQ(ws.Read(), "4echo:hi");
  ws.Send("1");  // close
  ASSERT_EQ(Rec()->closed.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(Rec()->reason, "transport close");
}

}  // namespace
}  // namespace fg::engineio
