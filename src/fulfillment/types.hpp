// The vocabulary shared by the fulfillment flow's parts (orders, payments, keys, job queue and
// runner): who is asking, what a call returns, the events a step emits and the flow's settings.
#pragma once

#include "common/errc.hpp"
#include "events/events.hpp"
#include "fulfillment/js_json.hpp"
#include "fulfillment/policy.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fg::fulfillment {

// One event to broadcast after commit: the app routes it (order subscribers + admins, or admins).
// `owner_json`, when set, is the variant for the order's owner (`owner_id`) only — it carries the
// signed key links; `json` (no links) goes to everyone else and is what the timeline stores.
struct Emitted {
  events::Event event;
  std::string order_id, json;
  std::string owner_id, owner_json;
  std::int64_t pos = 0;        // position in the delivery log (the clients' offset)
  std::int64_t order_seq = 0;  // position in the order's timeline (order events)
};
using EventSink = std::function<void(const std::vector<Emitted>&)>;

// Who is asking, for access checks.
struct Caller {
  enum class Kind { kUser, kAdmin, kService } kind = Kind::kUser;
  std::string user_id;
};

// What a call returns: success with a JSON body, or an error of the one vocabulary (common/errc.hpp)
// with a message for people. Only http_api turns it into an HTTP status.
struct Result {
  errc code = errc::ok;
  std::string message;      // on failure
  boost::json::value body;  // on success
  bool created = false;     // success that made a new resource
  bool no_store = false;    // the answer must not be cached (it carries private data)
  long retry_after_s = 0;   // > 0: when to try again (rate_limited)
  bool ok() const { return code == errc::ok; }
};
Result Fail(errc code, std::string message);
Result Ok(boost::json::value body, bool no_store = false);
Result Created(boost::json::value body);

// The outcome of authenticating a provider webhook: pure CPU (HMAC over the canonical body), so
// it runs before and apart from any store work.
struct WebhookCheck {
  errc code = errc::ok;
  std::string message;
  // The body as parsed for the check (signed providers): the handler reads it, never re-parses.
  std::shared_ptr<const ParsedBody> body;
  bool ok() const { return code == errc::ok; }
  static WebhookCheck Refused(errc c, std::string why) {
    WebhookCheck check;
    check.code = c;
    check.message = std::move(why);
    return check;
  }
};

struct ServiceConfig {
  std::vector<std::string> paid_statuses{"finished", "confirmed"};
  std::int64_t max_attempts = 5;
  Backoff backoff{};
  std::chrono::milliseconds lease{60000};
  std::chrono::seconds url_ttl{900};
  std::size_t workers = 2;
  std::string ipn_secret;      // empty: the IPN endpoint answers 503
  std::string kinguin_secret;  // empty: the Kinguin webhook answers 503
  std::chrono::milliseconds idle_poll{500};
  // Nodes share the store (PostgreSQL): at start, jobs left running are not taken back — they may
  // be another node's; their leases run out instead.
  bool shared_store = false;
  // Key reveals per order per minute (a signed link is the owner's; this bounds what a leaked or
  // scripted link can cost: each reveal decrypts and writes a timeline row). 0: unlimited.
  double reveals_per_minute = 20;
  // Failed (unauthenticated) webhook records kept; older ones are pruned.
  std::int64_t max_failed_webhooks = 10'000;
};

// The largest page of GET /api/v1/orders/{id}/events (?limit=).
inline constexpr std::int64_t kMaxTimelinePage = 500;
inline constexpr std::int64_t kDefaultTimelinePage = 100;

// A string or integer member as text ("" when absent or of another type).
std::string FieldText(const boost::json::object& o, std::string_view key);

// Ids we accept from callers (orders, items, products).
inline constexpr std::size_t kMaxIdLength = 128;
// The job queue's one queue.
inline constexpr std::string_view kQueue = "fulfillment";

}  // namespace fg::fulfillment
