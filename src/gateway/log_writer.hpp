// Durable before visible for the publish API: events are appended to the delivery log (order
// events also to their order's timeline, when the order exists) on the store thread, and published
// right after the commit, in log order (store/event_log.hpp). Requests that arrive while a commit
// runs wait in a queue and go together in the next one (group commit): one transaction, one fsync
// for many publishes, so throughput holds up under load while each answer still means "durable".
#pragma once

#include "gateway/gateway.hpp"
#include "store/fulfillment_store.hpp"
#include "store/store_worker.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace fg::gateway {

class LogWriter {
 public:
  struct Event {
    std::string event;
    Audience audience;
    std::string order_id;
    std::string data_json;
  };
  // ok = false: the store failed; nothing was published.
  using Done = std::function<void(bool ok)>;

  LogWriter(store::FulfillmentStore& store, store::StoreWorker& worker, Gateway& gateway)
      : store_(store), worker_(worker), gateway_(gateway) {}

  // Logs and publishes `events` (in order, after everything appended before); `done` runs on `exec`.
  void Append(std::vector<Event> events, boost::asio::any_io_executor exec, Done done);

 private:
  struct Request {
    std::vector<Event> events;
    boost::asio::any_io_executor exec;
    Done done;
  };
  void Drain();  // on the store thread

  store::FulfillmentStore& store_;
  store::StoreWorker& worker_;
  Gateway& gateway_;
  std::mutex mutex_;
  std::vector<Request> queue_;
  bool draining_ = false;  // a Drain is posted or running
};

}  // namespace fg::gateway
