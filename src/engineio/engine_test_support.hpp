// Test support (unit tests only): an engineio::Server as the HTTP handler of a loopback server.
#pragma once

#include "engineio/server.hpp"
#include "net/loopback_test_support.hpp"

#include <chrono>
#include <thread>

namespace fg::engineio::testing {

class Front : public net::HttpHandler {
 public:
  explicit Front(Server& s) : server(s) {}
  void OnRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override {
    server.HandleRequest(conn, std::move(req));
  }
  void OnUpgrade(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override {
    server.HandleUpgrade(conn, std::move(req));
  }
  net::Response OnBodyTooLarge(const net::http::request_parser<net::http::string_body>::value_type& h) override {
    return net::Response{net::http::status::payload_too_large, h.version()};
  }
  Server& server;
};

// Sessions and their handlers hold each other until closed: close them while the loop still runs
// (before the LoopbackServer stops it), waiting up to a second for them to go.
inline void CloseAllSessions(Server& engine) {
  engine.CloseAll("test over");
  for (int i = 0; i < 200 && engine.SessionCount() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace fg::engineio::testing
