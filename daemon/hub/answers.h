// answers: what hub::delivery (and the bus behind it) answers about a target: an outcome, and
// the views of rooms, users and connections that the control API and backends read.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/connection.h"

namespace wsgated::hub {

enum class outcome {
    ok,           // done (queued, closed, joined…; for a send with wait: written)
    not_found,    // no such connection (never was, or already gone)
    gone,         // a send with wait: the connection closed before the bytes reached its socket
    unavailable,  // the target is on another node that cannot be reached now (the bus is down)
};

// A connection as GET /v1/rooms/{room}/connections and GET /v1/users/{user} list it.
struct member {
    std::string id;
    std::string user;  // empty: anonymous
    std::string node;  // the node tag of the id (protocol/connection_id)
};

// GET /v1/connections/{id}: what the connection says of itself, and its rooms (sorted).
struct connection_view {
    core::connection_info info;
    std::vector<std::string> rooms;
};

// Where an answer runs: the caller's executor (the admin listener's, a backend's worker).
using reply_executor = boost::asio::any_io_executor;
using outcome_fn = std::function<void(outcome)>;
using change_fn = std::function<void(outcome, bool changed)>;  // join/leave: false = no change
using count_fn = std::function<void(outcome, std::uint64_t)>;
using members_fn = std::function<void(outcome, std::vector<member>)>;
using view_fn = std::function<void(outcome, connection_view)>;

}  // namespace wsgated::hub
