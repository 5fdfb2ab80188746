#include "daemon/target/target_store.h"

namespace loadd {

void DemoStore::EvictItemsFor(size_t incoming_bytes) {
  while (!items_.empty() && (items_.size() >= limits_.max_items ||
                             item_bytes_ + incoming_bytes > limits_.max_item_bytes)) {
    item_bytes_ -= items_.begin()->second.size();
    items_.erase(items_.begin());
  }
}

uint64_t DemoStore::CreateItem(std::string_view body) {
  MutexLock lock(&mu_);
  EvictItemsFor(body.size());
  uint64_t id = next_item_id_++;
  items_.emplace(id, std::string(body));
  item_bytes_ += body.size();
  return id;
}

std::optional<std::string> DemoStore::GetItem(uint64_t id) const {
  MutexLock lock(&mu_);
  auto it = items_.find(id);
  if (it == items_.end()) return std::nullopt;
  return it->second;
}

bool DemoStore::PutItem(uint64_t id, std::string_view body) {
  MutexLock lock(&mu_);
  auto it = items_.find(id);
  if (it == items_.end()) return false;
  item_bytes_ = item_bytes_ - it->second.size() + body.size();
  it->second.assign(body);
  // Over the byte budget now: evict the oldest others, never this one.
  for (auto other = items_.begin();
       item_bytes_ > limits_.max_item_bytes && other != items_.end();) {
    if (other->first == id) {
      ++other;
      continue;
    }
    item_bytes_ -= other->second.size();
    other = items_.erase(other);
  }
  return true;
}

bool DemoStore::DeleteItem(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = items_.find(id);
  if (it == items_.end()) return false;
  item_bytes_ -= it->second.size();
  items_.erase(it);
  return true;
}

size_t DemoStore::item_count() const {
  MutexLock lock(&mu_);
  return items_.size();
}

int64_t DemoStore::AddToCart(const std::string& user) {
  MutexLock lock(&mu_);
  auto it = carts_.find(user);
  if (it == carts_.end()) {
    if (carts_.size() >= limits_.max_carts && !cart_order_.empty()) {
      carts_.erase(cart_order_.begin()->second);
      cart_order_.erase(cart_order_.begin());
    }
    uint64_t seq = next_cart_seq_++;
    it = carts_.emplace(user, Cart{0, seq}).first;
    cart_order_.emplace(seq, user);
  }
  return ++it->second.count;
}

uint64_t DemoStore::Checkout(const std::string& user) {
  MutexLock lock(&mu_);
  auto it = carts_.find(user);
  if (it == carts_.end() || it->second.count == 0) return 0;
  cart_order_.erase(it->second.seq);
  carts_.erase(it);
  return next_order_++;
}

}  // namespace loadd
