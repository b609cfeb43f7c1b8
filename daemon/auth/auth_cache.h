// auth_cache: the http hook's answers kept for `cache_ttl`, keyed on what the hook saw (the
// forwarded headers and the path), at most `cache_size` entries (least recently used first
// out). Shared by every worker of one route's hook, behind a mutex: it is touched once per
// handshake, never per message.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/auth_hook.h"

namespace wsgated::auth {

class auth_cache {
public:
    using clock = std::chrono::steady_clock;
    auth_cache(std::size_t capacity, std::chrono::milliseconds ttl) : capacity_(capacity), ttl_(ttl) {}

    // Any thread. nullopt when absent or expired (an expired entry is removed).
    std::optional<auth_outcome> get(const std::string& key, clock::time_point now);
    void put(const std::string& key, const auth_outcome& answer, clock::time_point now);
    std::size_t size() const;

private:
    struct entry {
        std::string key;
        auth_outcome answer;
        clock::time_point expires;
    };
    const std::size_t capacity_;
    const std::chrono::milliseconds ttl_;
    mutable std::mutex mu_;
    std::list<entry> lru_;  // most recently used first
    std::unordered_map<std::string, std::list<entry>::iterator> index_;
};

}  // namespace wsgated::auth
