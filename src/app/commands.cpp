#include "app/commands.hpp"

#include "app/serve.hpp"
#include "auth/jwt.hpp"
#include "common/clock.hpp"
#include "common/limits.hpp"
#include "fulfillment/js_json.hpp"
#include "net/listener.hpp"
#include "net/loops.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

namespace fg::app {

int PrintToken(const std::string& jwt_secret, const std::string& sub, const std::string& email, const std::string& role,
               long ttl_s) {
  if (jwt_secret.empty()) return Fatal("JWT_SECRET is not set");
  boost::json::object claims{{"sub", sub}};
  if (!email.empty()) claims["email"] = email;
  if (!role.empty()) claims["role"] = role;
  claims["iat"] = UnixSeconds();
  if (ttl_s > 0) claims["exp"] = UnixSeconds() + ttl_s;
  std::cout << auth::SignHs256(claims, jwt_secret) << "\n";
  return 0;
}

int PrintIpnSignature(const std::string& ipn_secret, const std::string& file) {
  if (ipn_secret.empty()) return Fatal("IPN_SECRET is not set");
  std::string body;
  if (file == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Fatal("cannot read " + file);
    body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto sig = fulfillment::NowPaymentsSignature(body, ipn_secret);
  if (!sig) return Fatal("the body is not valid JSON");
  std::cout << "x-nowpayments-sig: " << *sig << "\n";
  return 0;
}

int RunSupplierSim(const std::string& host, unsigned short port, const supplier_sim::SimOptions& so) {
  Limits limits;
  supplier_sim::SupplierSim sim(so);
  net::Loops loops(1);
  std::shared_ptr<net::Listener> listener;
  try {
    listener = std::make_shared<net::Listener>(loops, host, port, sim, limits);
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  listener->Start();
  boost::asio::signal_set signals(loops.At(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { loops.Stop(); });
  std::printf("READY port=%u\n", listener->Port());
  std::fflush(stdout);
  spdlog::info("supplier simulator on http://{}:{} (latency {} ms, failure rate {})", host, listener->Port(),
               so.latency.count(), so.failure_rate);
  loops.Start();
  loops.Join();
  return 0;
}

}  // namespace fg::app
