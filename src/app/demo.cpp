#include "app/demo.hpp"

#include "auth/jwt.hpp"
#include "common/clock.hpp"
#include "fulfillment/js_json.hpp"
#include "net/http_client.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

namespace fg::app {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {
struct Product {
  const char* id;
  const char* name;
  const char* price;  // USD
};
const Product kProducts[] = {{"steam-gift-card-25", "Steam Gift Card $25", "25.00"},
                             {"elden-ring-pc", "Elden Ring (PC)", "59.99"},
                             {"windows-11-pro", "Windows 11 Pro", "199.99"},
                             {"office-2021-home", "Office Home 2021", "149.99"},
                             {"minecraft-java", "Minecraft: Java & Bedrock", "29.99"},
                             {"xbox-game-pass-3m", "Xbox Game Pass Ultimate, 3 months", "50.99"},
                             {"cyberpunk-2077-pc", "Cyberpunk 2077 (PC)", "39.99"}};
}  // namespace

void DemoDriver::Start() {
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void DemoDriver::Stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

void DemoDriver::Run() {
  std::mt19937_64 rng{std::random_device{}()};
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  const std::string port = std::to_string(config_.port);
  auto post = [&](const std::string& target, const std::string& body, std::map<std::string, std::string> headers) {
    headers["Content-Type"] = "application/json";
    try {
      return net::HttpRequest(config_.host, port, http::verb::post, target, body, headers, std::chrono::seconds(10));
    } catch (const std::exception& e) {
      spdlog::warn("demo: POST {} failed: {}", target, e.what());
      return net::HttpResult{};
    }
  };
  struct Step {
    std::chrono::steady_clock::time_point due;
    std::string order_id;
    std::string payment_status;
    long long payment_id;
    double total = 0;  // USD, what the order's items cost
  };
  std::vector<Step> steps;
  // What a previous run still owed: resumed a second apart, in order.
  if (!config_.state_file.empty()) {
    std::ifstream in(config_.state_file);
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    const auto saved = json::parse(text.str(), ec);
    if (!ec && saved.is_array()) {
      auto due = std::chrono::steady_clock::now();
      for (const auto& v : saved.as_array()) {
        const auto* o = v.if_object();
        if (!o || !o->contains("orderId") || !o->contains("paymentStatus") || !o->contains("paymentId")) continue;
        const auto* id = o->at("orderId").if_string();
        const auto* status = o->at("paymentStatus").if_string();
        const auto* pid = o->at("paymentId").if_int64();
        if (!id || !status || !pid) continue;
        due += std::chrono::seconds(1);
        const auto* total = o->if_contains("total");
        steps.push_back({due, std::string(*id), std::string(*status), *pid,
                         total && total->is_number() ? total->to_number<double>() : 0.0});
      }
      if (!steps.empty()) spdlog::info("demo: resuming {} payment steps left by the previous run", steps.size());
    }
  }
  auto save = [&] {
    if (config_.state_file.empty()) return;
    json::array out;
    for (const auto& s : steps)
      out.push_back(json::object{{"orderId", s.order_id},
                                 {"paymentStatus", s.payment_status},
                                 {"paymentId", s.payment_id},
                                 {"total", s.total}});
    const std::string tmp = config_.state_file + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << json::serialize(out);
      if (!f) return spdlog::warn("demo: cannot write {}", tmp);
    }
    std::rename(tmp.c_str(), config_.state_file.c_str());
  };
  auto next_order = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (running_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_order) {
      next_order = now + config_.interval;
      const std::string user = kDemoUsers[rng() % std::size(kDemoUsers)];
      json::array items;
      double total = 0;
      const int n = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < n; ++i) {
        const auto& p = kProducts[rng() % std::size(kProducts)];
        const int qty = 1 + static_cast<int>(rng() % 2);
        total += std::stod(p.price) * qty;
        items.push_back(json::object{{"productId", p.id}, {"name", p.name}, {"unitPrice", p.price}, {"quantity", qty}});
      }
      if (chance(0.1)) {
        items.push_back(json::object{{"productId", "oos-retro-bundle"},
                                     {"name", "Retro Classics Bundle"},
                                     {"unitPrice", "14.99"},
                                     {"quantity", 1}});
        total += 14.99;
      }
      auto r =
          post("/api/v1/orders", json::serialize(json::object{{"userId", user}, {"items", items}, {"currency", "USD"}}),
               {{"Authorization", "Bearer " + config_.api_key}});
      boost::system::error_code ec;
      auto v = json::parse(r.body, ec);
      if (r.status == 201 && !ec && v.is_object() && v.as_object().contains("orderId")) {
        const std::string order_id(v.as_object().at("orderId").as_string());
        const long long payment_id = 5'000'000'000LL + static_cast<long long>(rng() % 1'000'000'000LL);
        steps.push_back({now + std::chrono::seconds(3), order_id, "waiting", payment_id, total});
        steps.push_back(
            {now + std::chrono::seconds(6), order_id, chance(0.08) ? "expired" : "finished", payment_id, total});
        save();
        spdlog::info("demo: order {} for {} ({} items)", order_id, user, items.size());
      }
    }
    for (auto it = steps.begin(); it != steps.end();) {
      if (it->due > now) {
        ++it;
        continue;
      }
      const double price = std::round(it->total * 100) / 100;  // the order's total, as the shop sold it
      json::object ipn{{"payment_id", it->payment_id},
                       {"payment_status", it->payment_status},
                       {"pay_address", "0x9d2a6c0b0e1f"},
                       {"price_amount", price},
                       {"price_currency", "usd"},
                       {"pay_amount", price / 3500.0},
                       {"actually_paid", it->payment_status == "finished" ? price / 3500.0 : 0.0},
                       {"pay_currency", "eth"},
                       {"order_id", it->order_id},
                       {"order_description", "Demo order"},
                       {"payin_hash", it->payment_status == "finished" ? "0x" + std::to_string(rng()) : ""},
                       {"outcome_currency", "eth"}};
      const std::string body = json::serialize(ipn);
      const auto sig = fulfillment::NowPaymentsSignature(body, config_.ipn_secret).value_or("");
      const auto r = post("/webhooks/nowpayments", body, {{"x-nowpayments-sig", sig}});
      if (r.status == 0) {  // the gateway did not answer (stopping): keep the step for the next run
        ++it;
        continue;
      }
      it = steps.erase(it);
      save();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string DemoToken(const std::string& jwt_secret, const std::string& sub, const std::string& role) {
  boost::json::object claims{{"sub", sub}, {"email", sub + "@demo.example"}, {"exp", UnixSeconds() + 7 * 86400}};
  if (!role.empty()) claims["role"] = role;
  return auth::SignHs256(claims, jwt_secret);
}

net::Response DemoUsersResponse(unsigned version, const std::string& jwt_secret) {
  boost::json::array users;
  for (const char* u : kDemoUsers)
    users.push_back(boost::json::object{{"userId", u}, {"role", "user"}, {"token", DemoToken(jwt_secret, u, "")}});
  users.push_back(boost::json::object{
      {"userId", kDemoAdmin}, {"role", "admin"}, {"token", DemoToken(jwt_secret, kDemoAdmin, "admin")}});
  net::Response res{net::http::status::ok, version};
  res.set(net::http::field::content_type, "application/json");
  res.set(net::http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(boost::json::object{{"users", users}});
  return res;
}

void PrintDemoLinks(const std::string& base, const std::string& jwt_secret,
                    std::optional<std::chrono::milliseconds> interval) {
  if (interval) {
    std::printf(
        "\nDemo mode: a new order every %.1f s (signed IPNs, job queue, supplier simulator with transient "
        "failures).\n",
        static_cast<double>(interval->count()) / 1000.0);
  } else {
    std::printf("\nDemo mode (no automatic orders).\n");
  }
  std::printf("  Sign in:          %s/login\n", base.c_str());
  for (const char* user : kDemoUsers)
    std::printf("  %-6s orders:    %s/#token=%s\n", user, base.c_str(), DemoToken(jwt_secret, user, "").c_str());
  std::printf("  Admin dashboard:  %s/admin#token=%s\n\n", base.c_str(),
              DemoToken(jwt_secret, kDemoAdmin, "admin").c_str());
}

}  // namespace fg::app
