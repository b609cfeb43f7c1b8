// auth_cache: see auth_cache.h.
#include "auth/auth_cache.h"

namespace wsgated::auth {

std::optional<auth_outcome> auth_cache::get(const std::string& key, clock::time_point now) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    if (it->second->expires <= now) {
        lru_.erase(it->second);
        index_.erase(it);
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->answer;
}

void auth_cache::put(const std::string& key, const auth_outcome& answer, clock::time_point now) {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
        lru_.erase(it->second);
        index_.erase(it);
    }
    lru_.push_front(entry{key, answer, now + ttl_});
    index_[key] = lru_.begin();
    while (lru_.size() > capacity_) {
        index_.erase(lru_.back().key);
        lru_.pop_back();
    }
}

std::size_t auth_cache::size() const {
    std::lock_guard lock(mu_);
    return lru_.size();
}

}  // namespace wsgated::auth
