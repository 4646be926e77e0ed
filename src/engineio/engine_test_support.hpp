// Test support (unit tests only): an engineio::Server as the HTTP handler of a loopback server.
#pragma once

#include "engineio/server.hpp"
#include "net/loopback_test_support.hpp"

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

}  // namespace fg::engineio::testing
