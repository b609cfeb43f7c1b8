// local_hub: one worker's share of the hub: its connections by id, and its room memberships
// both ways (room → members, member → rooms), like Redis's pubsub indexes.
//
// Touched only on its worker's thread, so fan-out walks members without a lock. Members are raw
// pointers: a session adds itself when it opens and removes itself when it ends, on this same
// thread, so a pointer found here is always alive.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/connection.h"

namespace wsgated::hub {

class bus;
class room_index;

class local_hub {
public:
    local_hub(unsigned worker, room_index& rooms) : worker_(worker), rooms_(rooms) {}
    local_hub(const local_hub&) = delete;
    local_hub& operator=(const local_hub&) = delete;
    // Before the worker starts: who hears of every membership change (bus.h).
    void set_observer(bus* b) { observer_ = b; }

    void add(core::connection* c);
    void remove(core::connection* c);  // leaves every room
    core::connection* find(std::string_view id) const;

    bool join(const std::string& room, core::connection* c);   // false: already a member
    bool leave(const std::string& room, core::connection* c);  // false: was not a member
    std::vector<std::string> rooms_of(core::connection* c) const;
    // The local members of `room`, for a member list (not for delivery: publish walks them).
    std::vector<core::connection*> members(const std::string& room) const;

    // Queues `m` to every local member of `room` but `exclude` (a connection id, may be empty);
    // returns how many got it. The buffer is shared, never copied per member.
    std::size_t publish(const std::string& room, const core::message& m, const std::string& exclude);
    std::size_t broadcast(const core::message& m);
    std::size_t connections() const { return by_id_.size(); }

private:
    unsigned worker_;
    room_index& rooms_;
    bus* observer_ = nullptr;
    // Keyed by a view of the connection's own id, which outlives its entry (remove() comes
    // first): no second copy of a 28-byte id per connection (idle memory is a product figure).
    std::unordered_map<std::string_view, core::connection*> by_id_;
    std::unordered_map<std::string, std::unordered_set<core::connection*>> members_;
    std::unordered_map<core::connection*, std::unordered_set<std::string>> rooms_of_;
};

}  // namespace wsgated::hub
