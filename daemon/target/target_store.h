// The state behind the `loadd target` demo API: items, carts and orders. One
// store per process, shared by every loop thread; each call takes the one
// mutex for a short, bounded time (a map operation and a copy of one item).
//
// Bounded: at most `max_items` items holding at most `max_item_bytes` bytes
// in all (the oldest, by creation, are evicted to make room), and at most
// `max_carts` carts (the least recently created is dropped). Ids start at 1
// and are never reused.
#ifndef LOADD_DAEMON_TARGET_TARGET_STORE_H_
#define LOADD_DAEMON_TARGET_TARGET_STORE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"

namespace loadd {

struct DemoStoreLimits {
  size_t max_items = 100000;
  size_t max_item_bytes = size_t{256} << 20;  // item bodies, summed
  size_t max_carts = 100000;
};

class DemoStore {
 public:
  explicit DemoStore(const DemoStoreLimits& limits = DemoStoreLimits())
      : limits_(limits) {}
  DemoStore(const DemoStore&) = delete;
  DemoStore& operator=(const DemoStore&) = delete;

  // Stores `body` under a new id and returns the id. A body larger than
  // max_item_bytes is still stored, alone.
  uint64_t CreateItem(std::string_view body);
  std::optional<std::string> GetItem(uint64_t id) const;
  // False when there is no such item. Replacing keeps the item's age.
  bool PutItem(uint64_t id, std::string_view body);
  bool DeleteItem(uint64_t id);
  size_t item_count() const;

  // Adds one product to the user's cart; returns how many it now holds.
  int64_t AddToCart(const std::string& user);
  // Empties the user's cart and returns a new order number, or 0 when the
  // cart was empty.
  uint64_t Checkout(const std::string& user);

 private:
  struct Cart {
    int64_t count = 0;
    uint64_t seq = 0;  // creation order, the key in cart_order_
  };
  void EvictItemsFor(size_t incoming_bytes) EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const DemoStoreLimits limits_;
  mutable Mutex mu_;
  std::map<uint64_t, std::string> items_ GUARDED_BY(mu_);  // by id: begin() is the oldest
  size_t item_bytes_ GUARDED_BY(mu_) = 0;
  uint64_t next_item_id_ GUARDED_BY(mu_) = 1;
  std::unordered_map<std::string, Cart> carts_ GUARDED_BY(mu_);  // by user
  std::map<uint64_t, std::string> cart_order_ GUARDED_BY(mu_);   // seq -> user
  uint64_t next_cart_seq_ GUARDED_BY(mu_) = 1;
  uint64_t next_order_ GUARDED_BY(mu_) = 1;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_STORE_H_
