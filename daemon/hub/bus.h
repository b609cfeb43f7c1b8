// bus: the seam between this node's delivery and the other nodes of a cluster (SPEC §8).
//
// hub::delivery serves every target on this node itself and calls the bus only for the rest: a
// connection whose id names another node, and the other nodes' share of a fan-out (publish,
// user send, broadcast, user-wide join/leave/close) and of a cluster-wide view (room members,
// a user's connections). local_bus is the single-node implementation; the cluster issue adds
// a Redis one in cluster/, plugged in with delivery::set_bus. The bus never delivers to this
// node's connections: a publish made here reaches local members once, without a round trip.
//
// Called on any thread; every answer goes to the given executor.
#pragma once

#include <cstdint>
#include <string>

#include "core/connection.h"
#include "hub/answers.h"

namespace wsgated::hub {

class bus {
public:
    virtual ~bus() = default;

    // True while calls can reach the other nodes (a single node: always). /readyz reads it.
    virtual bool connected() const = 0;

    // A connection on another node (`id` is valid and names that node).
    virtual void send(const std::string& id, core::message m, bool wait_written, reply_executor ex,
                      outcome_fn done) = 0;
    virtual void close(const std::string& id, std::uint16_t code, const std::string& reason,
                       reply_executor ex, outcome_fn done) = 0;
    virtual void join(const std::string& room, const std::string& id, bool join, reply_executor ex,
                      change_fn done) = 0;
    virtual void view(const std::string& id, reply_executor ex, view_fn done) = 0;

    // The other nodes' share of a fan-out; `done` gets how many connections they addressed.
    virtual void publish(const std::string& room, const core::message& m, const std::string& exclude,
                         reply_executor ex, count_fn done) = 0;
    virtual void send_to_user(const std::string& user, const core::message& m, reply_executor ex,
                              count_fn done) = 0;
    virtual void broadcast(const core::message& m, reply_executor ex, count_fn done) = 0;
    virtual void join_user(const std::string& user, const std::string& room, bool join, reply_executor ex,
                           count_fn done) = 0;
    virtual void close_user(const std::string& user, std::uint16_t code, const std::string& reason,
                            reply_executor ex, count_fn done) = 0;

    // The other nodes' share of a view.
    virtual void room_count(const std::string& room, reply_executor ex, count_fn done) = 0;
    virtual void room_members(const std::string& room, reply_executor ex, members_fn done) = 0;
    virtual void user_connections(const std::string& user, reply_executor ex, members_fn done) = 0;

    // This node's memberships as they change, for a bus that keeps a cluster-wide view
    // (presence) and subscribes to the rooms that have local members. Called on the
    // connection's worker, after the change; a single node has nothing to do with them.
    virtual void entered(const core::connection& c) {}
    virtual void exited(const core::connection& c) {}
    virtual void joined(const std::string& room, const core::connection& c) {}
    virtual void left(const std::string& room, const core::connection& c) {}
};

}  // namespace wsgated::hub
