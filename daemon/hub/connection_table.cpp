// connection_table: see connection_table.h.
#include "hub/connection_table.h"

#include <functional>

namespace wsgated::hub {

connection_table::shard& connection_table::shard_of(std::string_view id) const {
    return shards_[std::hash<std::string_view>{}(id) % shard_count];
}

void connection_table::add(std::string_view id, unsigned worker, const std::string& user) {
    {
        auto& s = shard_of(id);
        std::lock_guard lock(s.mutex);
        s.workers[id] = worker;
    }
    if (user.empty()) return;
    std::lock_guard lock(users_mutex_);
    users_[user].insert(id);
}

void connection_table::remove(std::string_view id, const std::string& user) {
    {
        auto& s = shard_of(id);
        std::lock_guard lock(s.mutex);
        s.workers.erase(id);
    }
    if (user.empty()) return;
    std::lock_guard lock(users_mutex_);
    auto it = users_.find(user);
    if (it == users_.end()) return;
    it->second.erase(id);
    if (it->second.empty()) users_.erase(it);
}

std::optional<unsigned> connection_table::worker_of(const std::string& id) const {
    auto& s = shard_of(id);
    std::lock_guard lock(s.mutex);
    auto it = s.workers.find(id);
    if (it == s.workers.end()) return std::nullopt;
    return it->second;
}

std::vector<std::pair<unsigned, std::string>> connection_table::of_user(const std::string& user) const {
    std::vector<std::string> ids;
    {
        std::lock_guard lock(users_mutex_);
        auto it = users_.find(user);
        if (it == users_.end()) return {};
        ids.assign(it->second.begin(), it->second.end());  // copies: the views may go meanwhile
    }
    std::vector<std::pair<unsigned, std::string>> out;
    for (auto& id : ids)
        if (auto w = worker_of(id)) out.emplace_back(*w, std::move(id));
    return out;
}

std::size_t connection_table::size() const {
    std::size_t n = 0;
    for (auto& s : shards_) {
        std::lock_guard lock(s.mutex);
        n += s.workers.size();
    }
    return n;
}

}  // namespace wsgated::hub
