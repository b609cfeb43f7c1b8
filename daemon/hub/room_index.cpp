// room_index: see room_index.h.
#include "hub/room_index.h"

namespace wsgated::hub {

void room_index::joined(const std::string& room, unsigned worker) {
    std::lock_guard lock(mutex_);
    auto& e = rooms_[room];
    if (e.per_worker.empty()) e.per_worker.assign(workers_, 0);
    ++e.per_worker[worker];
    ++e.total;
    gauge_.set(static_cast<std::int64_t>(rooms_.size()));
}

void room_index::left(const std::string& room, unsigned worker) {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(room);
    if (it == rooms_.end() || it->second.per_worker[worker] == 0) return;
    --it->second.per_worker[worker];
    if (--it->second.total == 0) rooms_.erase(it);
    gauge_.set(static_cast<std::int64_t>(rooms_.size()));
}

std::uint64_t room_index::members(const std::string& room) const {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(room);
    return it == rooms_.end() ? 0 : it->second.total;
}

std::vector<unsigned> room_index::workers_of(const std::string& room) const {
    std::lock_guard lock(mutex_);
    std::vector<unsigned> out;
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return out;
    for (unsigned w = 0; w < it->second.per_worker.size(); ++w)
        if (it->second.per_worker[w]) out.push_back(w);
    return out;
}

std::size_t room_index::rooms() const {
    std::lock_guard lock(mutex_);
    return rooms_.size();
}

}  // namespace wsgated::hub
