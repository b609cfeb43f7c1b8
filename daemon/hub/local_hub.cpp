// local_hub: see local_hub.h.
#include "hub/local_hub.h"

#include "hub/bus.h"
#include "hub/room_index.h"

namespace wsgated::hub {

void local_hub::add(core::connection* c) {
    by_id_.emplace(c->id(), c);
    if (observer_) observer_->entered(*c);
}

void local_hub::remove(core::connection* c) {
    if (auto it = rooms_of_.find(c); it != rooms_of_.end()) {
        for (const auto& room : it->second) {
            auto m = members_.find(room);
            m->second.erase(c);
            if (m->second.empty()) members_.erase(m);  // an empty room frees its memory
            rooms_.left(room, worker_);
            if (observer_) observer_->left(room, *c);
        }
        rooms_of_.erase(it);
    }
    by_id_.erase(c->id());
    if (observer_) observer_->exited(*c);
}

core::connection* local_hub::find(std::string_view id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
}

bool local_hub::join(const std::string& room, core::connection* c) {
    if (!members_[room].insert(c).second) return false;
    rooms_of_[c].insert(room);
    rooms_.joined(room, worker_);
    if (observer_) observer_->joined(room, *c);
    return true;
}

bool local_hub::leave(const std::string& room, core::connection* c) {
    auto m = members_.find(room);
    if (m == members_.end() || !m->second.erase(c)) return false;
    if (m->second.empty()) members_.erase(m);
    auto r = rooms_of_.find(c);
    r->second.erase(room);
    if (r->second.empty()) rooms_of_.erase(r);
    rooms_.left(room, worker_);
    if (observer_) observer_->left(room, *c);
    return true;
}

std::vector<std::string> local_hub::rooms_of(core::connection* c) const {
    auto it = rooms_of_.find(c);
    if (it == rooms_of_.end()) return {};
    return {it->second.begin(), it->second.end()};
}

std::vector<core::connection*> local_hub::members(const std::string& room) const {
    auto it = members_.find(room);
    if (it == members_.end()) return {};
    return {it->second.begin(), it->second.end()};
}

std::size_t local_hub::publish(const std::string& room, const core::message& m,
                               const std::string& exclude) {
    auto it = members_.find(room);
    if (it == members_.end()) return 0;
    // send() may close a slow member, which removes it from this very set: walk a copy.
    std::vector<core::connection*> targets(it->second.begin(), it->second.end());
    std::size_t n = 0;
    for (auto* c : targets) {
        if (!exclude.empty() && c->id() == exclude) continue;
        c->send(core::message{m.data, m.binary, nullptr});
        ++n;
    }
    return n;
}

std::size_t local_hub::broadcast(const core::message& m) {
    std::vector<core::connection*> targets;
    targets.reserve(by_id_.size());
    for (auto& [_, c] : by_id_) targets.push_back(c);
    for (auto* c : targets) c->send(core::message{m.data, m.binary, nullptr});
    return targets.size();
}

}  // namespace wsgated::hub
