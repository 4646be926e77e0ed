// The job workers: each leases a due job and runs it as four steps, each its own transaction, each
// idempotent so that a run that dies anywhere can simply run again:
//   Begin          the order goes processing (progress so far)
//   PlaceOrder     the supplier order, its reference stored before use (the supplier dedupes by
//                  our order id, so a retry never buys twice)
//   SealKeys       each item's keys sealed (AES-256-GCM) into the object store, one item per
//                  transaction (progress per item; delivered items are skipped on a re-run)
//   Complete       fulfilled: key-delivered, and the status-change whose key links go to the owner
// A failure retries with backoff or fails the order for good. Every step that buys, seals or
// delivers first re-reads the order in its transaction and stops when the order left processing
// (a refund arrived meanwhile): nothing more is bought, sealed or delivered.
#pragma once

#include "fulfillment/crypto.hpp"
#include "fulfillment/job_queue.hpp"
#include "fulfillment/keys.hpp"
#include "fulfillment/object_store.hpp"
#include "fulfillment/supplier.hpp"

#include <random>
#include <thread>

namespace fg::fulfillment {

class JobRunner {
 public:
  JobRunner(store::FulfillmentStore& store, JobQueue& queue, ObjectStore& objects, const KeyCipher& cipher,
            const KeyLinks& links, Supplier& supplier, EventSink sink, const ServiceConfig& config);
  ~JobRunner();
  void Start();
  void Stop();
  // Runs at most one due job on the calling thread; false when none was due (tests use this).
  bool RunOnce();

 private:
  // One run of one job: what the steps share.
  struct Run {
    store::JobRow job;
    store::OrderRow order;
    std::vector<store::ItemRow> items;
  };
  void WorkerLoop();
  void Execute(store::JobRow job);
  bool Begin(Run& run);
  bool PlaceOrder(Run& run);
  bool SealKeys(Run& run);
  void Complete(Run& run);
  void OnFailure(Run& run, const std::exception& e);
  // In a step's transaction: true (and the job ended, the reason recorded) when the order is no
  // longer processing.
  bool StopIfOrderLeft(store::Tx& tx, Outbox& out, store::JobRow& job, const store::OrderRow& current);

  store::FulfillmentStore& store_;
  JobQueue& queue_;
  ObjectStore& objects_;
  const KeyCipher& cipher_;
  const KeyLinks& links_;
  Supplier& supplier_;
  EventSink sink_;
  const ServiceConfig& config_;
  std::mutex rng_mutex_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::vector<std::thread> workers_;
};

}  // namespace fg::fulfillment
