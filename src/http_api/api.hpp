// The REST surface of the gateway: health, order registration and the publish API for backend
// services. One table maps error codes to HTTP statuses; every error body is
// {"error":"<code>","message":"<text>"}.
#pragma once

#include "gateway/gateway.hpp"
#include "http_api/publish.hpp"
#include "net/http_connection.hpp"
#include "store/order_store.hpp"

#include <string>

namespace fg::http_api {

net::Response ErrorResponse(unsigned version, Errc e, std::string_view message);

class Api {
 public:
  Api(gateway::Gateway& gateway, store::OrderStore& store, store::StoreWorker& worker, std::string api_key,
      const Limits& limits)
      : gateway_(gateway), store_(store), worker_(worker), api_key_(std::move(api_key)), limits_(limits) {}

  void Handle(const std::shared_ptr<net::HttpConnection>& conn, net::Request req);

 private:
  bool Authorized(const net::Request& req) const;
  void PutOrder(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req, std::string order_id);
  void PostEvents(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req);

  gateway::Gateway& gateway_;
  store::OrderStore& store_;
  store::StoreWorker& worker_;
  std::string api_key_;
  const Limits& limits_;
};

}  // namespace fg::http_api
