#include "daemon/coordinator/bus_admission.h"

#include <algorithm>
#include <tuple>

#include "common/clock.h"

namespace loadd {

HandshakeAdmission::HandshakeAdmission(BusAdmissionOptions options)
    : options_(options),
      handshake_timeout_ns_(options.handshake_timeout_ms * kNsPerMs),
      penalty_ns_(options.failure_penalty_ms * kNsPerMs) {
  // Zero would make every arrival wait for room that never comes.
  options_.max_pending = std::max<size_t>(1, options_.max_pending);
  options_.max_pending_per_host = std::max<size_t>(1, options_.max_pending_per_host);
  options_.max_hosts_remembered = std::max<size_t>(1, options_.max_hosts_remembered);
}

HandshakeAdmission::Decision HandshakeAdmission::Admit(uint32_t pipe,
                                                       const std::string& host,
                                                       int64_t now_ns) {
  Decision d;
  if (pending_.count(pipe) != 0 || closing_.count(pipe) != 0) {
    d.why = "connection " + std::to_string(pipe) + " is already known";
    return d;
  }
  std::string why;
  uint32_t victim = Victim(host, now_ns, &why);
  if (victim != 0 && closing_.size() >= options_.max_closing) {
    d.why = why + ", and " + std::to_string(closing_.size()) +
            " connections given up on are still being closed";
    return d;
  }
  if (victim != 0) {
    Drop(victim, /*strike=*/true, now_ns);
    d.evicted = victim;
    d.why = why;
  }
  uint64_t order = next_order_++;
  pending_[pipe] = Pending{host, order, now_ns + handshake_timeout_ns_};
  by_host_[host].emplace(order, pipe);
  d.admitted = true;
  return d;
}

uint32_t HandshakeAdmission::Victim(const std::string& host, int64_t now_ns,
                                    std::string* why) const {
  auto own = by_host_.find(host);
  if (own != by_host_.end() && own->second.size() >= options_.max_pending_per_host) {
    *why = host + " has " + std::to_string(own->second.size()) +
           " connections in handshake already";
    return own->second.begin()->second;
  }
  if (pending_.size() < options_.max_pending) return 0;
  // The host holding the most; one with recent failures before any other.
  auto worst = by_host_.end();
  auto rank = [&](auto it) {
    // Older first among equals: a smaller order ranks higher.
    return std::make_tuple(Penalized(it->first, now_ns), it->second.size(),
                           ~it->second.begin()->first);
  };
  for (auto it = by_host_.begin(); it != by_host_.end(); ++it) {
    if (worst == by_host_.end() || rank(it) > rank(worst)) worst = it;
  }
  *why = std::to_string(pending_.size()) + " connections are in handshake (" +
         std::to_string(worst->second.size()) + " from " + worst->first + ")";
  return worst->second.begin()->second;
}

void HandshakeAdmission::Drop(uint32_t pipe, bool strike, int64_t now_ns) {
  auto it = pending_.find(pipe);
  if (it == pending_.end()) return;
  auto bucket = by_host_.find(it->second.host);
  if (bucket != by_host_.end()) {
    bucket->second.erase({it->second.order, pipe});
    if (bucket->second.empty()) by_host_.erase(bucket);
  }
  if (strike) Strike(it->second.host, now_ns);
  pending_.erase(it);
  closing_.insert(pipe);
}

void HandshakeAdmission::Authenticated(uint32_t pipe) {
  Drop(pipe, /*strike=*/false, 0);
  closing_.erase(pipe);
}

void HandshakeAdmission::Failed(uint32_t pipe, int64_t now_ns) {
  Drop(pipe, /*strike=*/true, now_ns);
}

std::vector<uint32_t> HandshakeAdmission::Expire(int64_t now_ns) {
  std::vector<std::pair<uint64_t, uint32_t>> due;
  for (const auto& [pipe, p] : pending_) {
    if (now_ns >= p.deadline_ns) due.emplace_back(p.order, pipe);
  }
  std::sort(due.begin(), due.end());
  std::vector<uint32_t> out;
  out.reserve(due.size());
  for (const auto& [order, pipe] : due) {
    Drop(pipe, /*strike=*/true, now_ns);
    out.push_back(pipe);
  }
  return out;
}

void HandshakeAdmission::Closing(uint32_t pipe) {
  if (pending_.count(pipe) != 0) {
    Drop(pipe, /*strike=*/false, 0);
  } else {
    closing_.insert(pipe);
  }
}

void HandshakeAdmission::Removed(uint32_t pipe) {
  Drop(pipe, /*strike=*/false, 0);
  closing_.erase(pipe);
}

bool HandshakeAdmission::Penalized(const std::string& host, int64_t now_ns) const {
  auto it = failed_at_ns_.find(host);
  return it != failed_at_ns_.end() && now_ns - it->second < penalty_ns_;
}

void HandshakeAdmission::Strike(const std::string& host, int64_t now_ns) {
  auto it = failed_at_ns_.find(host);
  if (it != failed_at_ns_.end()) {
    it->second = now_ns;
    return;
  }
  if (failed_at_ns_.size() >= options_.max_hosts_remembered) {
    std::erase_if(failed_at_ns_, [&](const auto& entry) {
      return now_ns - entry.second >= penalty_ns_;
    });
  }
  if (failed_at_ns_.size() >= options_.max_hosts_remembered) {
    auto oldest = std::min_element(
        failed_at_ns_.begin(), failed_at_ns_.end(),
        [](const auto& a, const auto& b) { return a.second < b.second; });
    failed_at_ns_.erase(oldest);
  }
  failed_at_ns_.emplace(host, now_ns);
}

std::string AddressHost(std::string_view address) {
  if (address.size() > 1 && address.front() == '[') {
    size_t end = address.find(']');
    if (end != std::string_view::npos) return std::string(address.substr(1, end - 1));
  }
  size_t colon = address.rfind(':');
  if (colon != std::string_view::npos && address.find(':') == colon) {
    return std::string(address.substr(0, colon));
  }
  return std::string(address);
}

}  // namespace loadd
