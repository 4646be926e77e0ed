// Routes each HTTP request of the shared port: Engine.IO paths to their server, the rest to the
// REST handler (when present). Also answers the WebSocket upgrades that target no Engine.IO path.
#pragma once

#include "engineio/server.hpp"
#include "net/http_connection.hpp"

#include <boost/json.hpp>

#include <functional>
#include <vector>

namespace fg::app {

class Router : public net::HttpHandler {
 public:
  using RestHandler = std::function<void(const std::shared_ptr<net::HttpConnection>&, net::Request)>;
  Router(std::vector<engineio::Server*> engines, RestHandler rest)
      : engines_(std::move(engines)), rest_(std::move(rest)) {}

  void OnRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override {
    for (auto* e : engines_) {
      if (e->Matches(req.target())) {
        e->HandleRequest(conn, std::move(req));
        return;
      }
    }
    if (rest_) {
      rest_(conn, std::move(req));
      return;
    }
    conn->Respond(JsonError(req.version(), net::http::status::not_found, "not_found", "no such route"));
  }

  void OnUpgrade(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override {
    for (auto* e : engines_) {
      if (e->Matches(req.target())) {
        e->HandleUpgrade(conn, std::move(req));
        return;
      }
    }
    conn->RespondAndClose(JsonError(req.version(), net::http::status::not_found, "not_found", "no such route"));
  }

  net::Response OnBodyTooLarge(const net::http::request_parser<net::http::string_body>::value_type& header) override {
    for (auto* e : engines_) {
      if (e->Matches(header.target())) {
        net::Response res{net::http::status::payload_too_large, header.version()};
        return res;  // Engine.IO answers an oversized POST with 413 and an empty body
      }
    }
    return JsonError(header.version(), net::http::status::bad_request, "payload_too_large",
                     "request body exceeds the limit");
  }

  static net::Response JsonError(unsigned version, net::http::status status, std::string_view code,
                                 std::string_view message) {
    net::Response res{status, version};
    res.set(net::http::field::content_type, "application/json");
    boost::json::object o;
    o["error"] = code;
    o["message"] = message;
    res.body() = boost::json::serialize(o);
    return res;
  }

 private:
  std::vector<engineio::Server*> engines_;
  RestHandler rest_;
};

}  // namespace fg::app
