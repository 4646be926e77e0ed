#include "store/store.hpp"

namespace fg::store {

UpsertResult Store::UpsertOrder(const std::string& order_id, const std::string& user_id,
                                const std::optional<std::string>& status) {
  UpsertResult r;
  Transaction([&](Tx& tx) {
    auto o = tx.GetOrder(order_id);
    r.created = !o;
    if (!o) {
      OrderRow row;
      row.order_id = order_id;
      row.user_id = user_id;
      if (status) row.status = *status;
      tx.InsertOrder(row);
    } else {
      r.previous_user_id = o->user_id;
      o->user_id = user_id;
      if (status) o->status = *status;
      tx.UpdateOrder(*o);
    }
    auto stored = tx.GetOrder(order_id);
    r.order = OrderRecord{stored->order_id, stored->user_id, stored->status, stored->created_at, stored->updated_at};
  });
  return r;
}

}  // namespace fg::store
