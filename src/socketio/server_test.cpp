// socketio::Server over a real Engine.IO session (WebSocket): CONNECT accepted and refused, events
// and acks both ways, binary attachments, server disconnect, the connect timeout, and malformed
// packets closing the session.
#include "socketio/server.hpp"

#include "engineio/engine_test_support.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <future>
#include <mutex>
#include <thread>

namespace fg::socketio {
namespace {

namespace json = boost::json;

// Accepts a CONNECT whose auth has {"ok":true}; answers event "ping" with an ack of its args,
// "bye" with a server disconnect, and echoes others as "echo".
class TestNamespace : public NamespaceHandler {
 public:
  void OnConnect(const std::shared_ptr<Socket>&, const json::value& auth, ConnectDone done) override {
    const auto* o = auth.if_object();
    if (o && o->contains("ok")) return done(std::nullopt);
    done(json::object{{"message", "not allowed"}});
  }
  void OnEvent(const std::shared_ptr<Socket>& socket, Event event) override {
    {
      std::lock_guard lock(mu);
      events.push_back(event.name);
      attachments += event.attachments.size();
    }
    if (event.name == "ping" && event.ack_id) return socket->Ack(*event.ack_id, event.args);
    if (event.name == "bye") return socket->Disconnect();
    if (event.name == "ask") {
      std::lock_guard lock(mu);
      asked = socket->EmitExpectingAck("question", event.args);
      return;
    }
    socket->Emit("echo", event.args);
  }
  void OnAck(const std::shared_ptr<Socket>&, std::uint64_t id, json::array args, std::vector<std::string>) override {
    std::lock_guard lock(mu);
    answers.push_back(std::to_string(id) + ":" + json::serialize(args));
  }
  void OnDisconnect(const std::shared_ptr<Socket>&, std::string_view reason) override {
    std::lock_guard lock(mu);
    reasons.push_back(std::string(reason));
  }
  std::mutex mu;
  std::vector<std::string> events, reasons, answers;
  std::uint64_t asked = 99;
  std::size_t attachments = 0;
};

class SocketIoServerTest : public ::testing::Test {
 protected:
  SocketIoServerTest() {
    ServerOptions options;
    options.connect_timeout = std::chrono::milliseconds(300);
    options.max_packet_bytes = 10'000;
    sio = std::make_unique<Server>(options);
    sio->AddNamespace("/test", handler);
    engine = std::make_unique<engineio::Server>(
        engineio::ServerConfig{}, limits, [this](const std::shared_ptr<engineio::Session>& s) { sio->OnSession(s); });
    front = std::make_unique<engineio::testing::Front>(*engine);
    server = std::make_unique<net::testing::LoopbackServer>(loops, *front, limits);
  }
  ~SocketIoServerTest() override {
    engineio::testing::CloseAllSessions(*engine);
    server.reset();  // loops stop before the engine goes
  }
  std::unique_ptr<net::testing::WsClient> Open() {
    auto ws = std::make_unique<net::testing::WsClient>(server->Port(), "/socket.io/?EIO=4&transport=websocket");
    EXPECT_EQ(ws->Read()[0], '0');
    return ws;
  }
  // Reads past heartbeats to the next Socket.IO message ("4..." without the "4").
  static std::string Next(net::testing::WsClient& ws) {
    for (;;) {
      auto m = ws.Read();
      if (m == "2") {
        ws.Send("3");
        continue;
      }
      return m[0] == '4' ? m.substr(1) : m;
    }
  }
  Limits limits;
  net::Loops loops{1};  // outlives the sessions and their sockets
  std::shared_ptr<TestNamespace> handler = std::make_shared<TestNamespace>();
  std::unique_ptr<Server> sio;
  std::unique_ptr<engineio::Server> engine;
  std::unique_ptr<engineio::testing::Front> front;
  std::unique_ptr<net::testing::LoopbackServer> server;
};

TEST_F(SocketIoServerTest, ConnectsEmitsAndAcks) {
  auto ws = Open();
  ws->Send("40/test,{\"ok\":true}");
  const auto ack = Next(*ws);
  ASSERT_EQ(ack.rfind("0/test,", 0), 0u) << ack;
  const auto sid = json::parse(ack.substr(7)).as_object().at("sid").as_string();
  EXPECT_GE(sid.size(), 20u);
  ws->Send("42/test,7[\"ping\",{\"a\":1}]");
  EXPECT_EQ(Next(*ws), "3/test,7[{\"a\":1}]");
  ws->Send("42/test,[\"hello\",\"x\"]");
  EXPECT_EQ(Next(*ws), "2/test,[\"echo\",\"x\"]");
  std::lock_guard lock(handler->mu);
  EXPECT_EQ(handler->events, (std::vector<std::string>{"ping", "hello"}));
}

TEST_F(SocketIoServerTest, TheServerAsksForAnAckAndGetsTheAnswer) {
  auto ws = Open();
  ws->Send("40/test,{\"ok\":true}");
  Next(*ws);
  ws->Send("42/test,[\"ask\",5]");
  EXPECT_EQ(Next(*ws), "2/test,0[\"question\",5]");
  ws->Send("43/test,0[5,{\"test\":true}]");
  ws->Send("43/test,7[\"never asked: still passed on, the namespace decides\"]");
  ws->Send("42/test,[\"hello\"]");  // in order after the acks
  EXPECT_EQ(Next(*ws), "2/test,[\"echo\"]");
  std::lock_guard lock(handler->mu);
  EXPECT_EQ(handler->asked, 0u);
  ASSERT_EQ(handler->answers.size(), 2u);
  EXPECT_EQ(handler->answers[0], "0:[5,{\"test\":true}]");
}

TEST_F(SocketIoServerTest, RefusedConnectAndUnknownNamespaceGetConnectError) {
  auto ws = Open();
  ws->Send("40/test,{}");
  EXPECT_EQ(Next(*ws), "4/test,{\"message\":\"not allowed\"}");
  ws->Send("40/nowhere,");
  EXPECT_EQ(Next(*ws), "4/nowhere,{\"message\":\"Invalid namespace\"}");
}

TEST_F(SocketIoServerTest, BinaryEventsAreReassembled) {
  auto ws = Open();
  ws->Send("40/test,{\"ok\":true}");
  Next(*ws);
  ws->Send("451-/test,[\"file\",{\"_placeholder\":true,\"num\":0}]");
  ws->Send(std::string("\x01\x02\x03", 3), true);
  ws->Send("42/test,[\"after\"]");
  EXPECT_EQ(Next(*ws).rfind("2/test,[\"echo\"", 0), 0u);  // echo of "file"
  EXPECT_EQ(Next(*ws), "2/test,[\"echo\"]");              // echo of "after"
  std::lock_guard lock(handler->mu);
  EXPECT_EQ(handler->events, (std::vector<std::string>{"file", "after"}));
  EXPECT_EQ(handler->attachments, 1u);
}

TEST_F(SocketIoServerTest, ServerDisconnectIsSentAndReported) {
  auto ws = Open();
  ws->Send("40/test,{\"ok\":true}");
  Next(*ws);
  ws->Send("42/test,[\"bye\"]");
  EXPECT_EQ(Next(*ws), "1/test,");
  std::lock_guard lock(handler->mu);
  EXPECT_EQ(handler->reasons, std::vector<std::string>{"server namespace disconnect"});
}

TEST_F(SocketIoServerTest, ASessionThatJoinsNothingIsClosedAfterTheConnectTimeout) {
  const auto start = std::chrono::steady_clock::now();
  auto ws = Open();
  EXPECT_EQ(engine->SessionCount(), 1u);
  (void)ws->ReadCloseCode();  // returns once the server ends the session
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  for (int i = 0; i < 100 && engine->SessionCount() != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(engine->SessionCount(), 0u);
}

TEST_F(SocketIoServerTest, AMalformedPacketClosesTheSession) {
  auto ws = Open();
  ws->Send("40/test,{\"ok\":true}");
  Next(*ws);
  ws->Send("42/test,[not json");
  EXPECT_THROW(
      {
        for (;;) Next(*ws);
      },
      boost::system::system_error);
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(handler->mu);
      if (!handler->reasons.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard lock(handler->mu);
  ASSERT_EQ(handler->reasons.size(), 1u);
  EXPECT_EQ(handler->reasons[0], "parse error");
}

}  // namespace
}  // namespace fg::socketio
