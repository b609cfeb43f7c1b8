// pending_calls: the calls this node has sent to other nodes and is waiting on (SPEC §8).
//
// Two shapes. A call for one connection goes to the channel of the node that holds it and
// expects one reply; Redis's answer to the PUBLISH says how many nodes heard it, so 0 means
// that node is gone (no such connection). A fan-out (room publish, broadcast, user-wide call)
// is heard by every node subscribed to its channel, this one included; each answers how many
// connections it addressed (this node answers itself when its own message comes back), and
// the call is done when every node that heard it answered: the count is exact and, for a
// user-wide join, the joins are done.
//
// A fan-out also knows which nodes had to hear it (needs(): those with members of the room, or
// every live node, read from presence alongside the PUBLISH) and whether a node's share is
// unknown (a node heard from lately whose presence is not in Redis: it is reconnecting). It
// answers `unavailable`, with the count of those that did get it, when a needed node did not
// hear it or a share is unknown: a 202 means every member was reached. A node that heard but
// never answers (stopped, wedged) ends the wait at the deadline, `unavailable` too.
//
// On the control thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "hub/answers.h"

namespace wsgated::cluster {

struct call_result {
    hub::outcome outcome = hub::outcome::ok;
    std::uint64_t count = 0;  // a fan-out: connections addressed by the nodes that answered
    bool changed = false;     // a join or leave: the membership changed
    std::string payload{};    // a view: the connection's view as JSON
};

class pending_calls {
public:
    using clock = std::chrono::steady_clock;
    using done_fn = std::function<void(call_result)>;

    std::uint64_t open(bool fan_out, clock::time_point deadline, done_fn done);
    // Redis answered the PUBLISH: `receivers` nodes heard the call.
    void heard_by(std::uint64_t seq, std::uint64_t receivers);
    // A fan-out: the other nodes that must hear it, and whether some node's share is unknown.
    void needs(std::uint64_t seq, std::set<std::string> nodes, bool unknown);
    // Node `node` answered (a fan-out: its count; this node's own answer too).
    void answered(std::uint64_t seq, std::string_view node, call_result r);
    // The PUBLISH failed (Redis down): answers `unavailable` now.
    void failed(std::uint64_t seq);
    // Ends the calls past their deadline; returns how many ended so.
    std::size_t expire(clock::time_point now);
    void fail_all();
    std::size_t size() const { return calls_.size(); }

private:
    struct call {
        bool fan_out = false;
        clock::time_point deadline;
        std::uint64_t expected = UINT64_MAX;  // unknown until Redis answers the PUBLISH
        std::uint64_t answers = 0;
        std::set<std::string> answered_by;
        bool needs_known = false, unknown = false;
        std::set<std::string> needed;
        call_result result;
        done_fn done;
    };
    void finish_if_done(std::unordered_map<std::uint64_t, call>::iterator it);

    std::uint64_t next_ = 1;
    std::unordered_map<std::uint64_t, call> calls_;
};

}  // namespace wsgated::cluster
