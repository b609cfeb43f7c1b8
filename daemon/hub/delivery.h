// delivery: the one way to reach a client connection, a room or a user, wherever it is (same
// worker, another worker, another node). The control API, the backends' actions (WSGate-Join,
// stream frames) and the cluster bus all go through it; nothing else touches a worker's
// local_hub or posts to a worker to find a connection.
//
// How a call travels: an id names its node (protocol/connection_id). Another node's id goes to
// the bus. This node's id is looked up in connection_table (which worker), the call is posted to
// that worker, which finds the connection in its local_hub and acts on it there; the answer is
// posted back to the caller's executor. Fan-out posts once per worker that has recipients, with
// the one shared message buffer, then asks the bus for the other nodes' share.
//
// Owned by server::server, built before the workers start and destroyed after they stopped.
// Sessions enter and leave it on their own worker; every other call may come from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/connection.h"
#include "core/process_state.h"
#include "hub/answers.h"
#include "hub/bus.h"
#include "hub/connection_table.h"
#include "hub/local_bus.h"
#include "hub/local_hub.h"
#include "hub/room_index.h"

namespace wsgated::hub {

class delivery {
public:
    explicit delivery(core::process_state& state);
    delivery(const delivery&) = delete;
    delivery& operator=(const delivery&) = delete;

    // This process's node tag (the first characters of every id it hands out).
    const std::string& node_tag() const { return node_; }
    std::string new_connection_id() const;
    // Before the workers start: where calls for other nodes go (default: a local_bus); it also
    // hears of every membership change on this node.
    void set_bus(bus& b);
    // Once the workers have stopped, before the bus goes: sessions still held by a stopped
    // worker's event loop are destroyed after it and leave their rooms then, with nobody to tell.
    void clear_bus() { set_bus(local_bus_); }  // the local bus hears memberships as no-ops
    bool bus_connected() const { return bus_->connected(); }
    std::size_t connections() const { return connections_.size(); }  // on this node

    // On connection c's own worker: the session enters when it opens and leaves when it ends
    // (leaving every room); backends join and leave rooms for their own connection here.
    void enter(core::connection& c, unsigned worker);
    void leave_all(core::connection& c, unsigned worker);
    bool join(core::connection& c, unsigned worker, const std::string& room);   // false: member already
    bool leave(core::connection& c, unsigned worker, const std::string& room);  // false: not a member
    std::vector<std::string> rooms_of(core::connection& c, unsigned worker) const;  // sorted
    // On worker `worker`: its connection `id`, or nullptr when that worker does not hold it
    // (elsewhere, or gone). A backend's fast path to a connection of its own worker.
    core::connection* local_connection(unsigned worker, std::string_view id) const;

    // Any thread; `done` runs on `ex`. Called on a worker's thread, the share of that worker
    // runs inline, before the call returns, and other workers' shares are posted: so the calls
    // one worker makes reach each connection in the order they were made (a stream backend's
    // actions, SPEC §4). `id` must be a valid connection id (callers answer 400
    // for one that is not). With wait_written, ok means the bytes reached the socket.
    void send(const std::string& id, core::message m, bool wait_written, reply_executor ex, outcome_fn done);
    void close(const std::string& id, std::uint16_t code, std::string reason, reply_executor ex,
               outcome_fn done);
    void join(const std::string& room, const std::string& id, bool join, reply_executor ex, change_fn done);
    void view(const std::string& id, reply_executor ex, view_fn done);

    // Any thread. The counts: a publish answers the room's members when it was made (an
    // excluded one included), the others the connections addressed; every node's share.
    void publish(const std::string& room, core::message m, const std::string& exclude, reply_executor ex,
                 count_fn done);
    void send_to_user(const std::string& user, core::message m, reply_executor ex, count_fn done);
    void broadcast(core::message m, reply_executor ex, count_fn done);
    void join_user(const std::string& user, const std::string& room, bool join, reply_executor ex,
                   count_fn done);
    void close_user(const std::string& user, std::uint16_t code, std::string reason, reply_executor ex,
                    count_fn done);
    void room_count(const std::string& room, reply_executor ex, count_fn done);
    void room_members(const std::string& room, reply_executor ex, members_fn done);
    void user_connections(const std::string& user, reply_executor ex, members_fn done);

    // This node's share only, for the bus: what another node's fan-out asks of this one.
    // Any thread; the counts are this node's (a publish: the room's local members).
    std::uint64_t publish_here(const std::string& room, const core::message& m, const std::string& exclude);
    std::uint64_t broadcast_here(const core::message& m);
    // `done` runs on some worker's thread once every worker did its share.
    void send_to_user_here(const std::string& user, const core::message& m, count_fn done);
    void join_user_here(const std::string& user, const std::string& room, bool join, count_fn done);
    void close_user_here(const std::string& user, std::uint16_t code, const std::string& reason, count_fn done);

private:
    // Runs fn(connection, local_hub) on the worker of this node's connection `id`, or
    // missing() on the calling thread when there is none.
    template <class Fn, class Missing>
    void on_local(const std::string& id, Fn fn, Missing missing);
    // Runs fn now when the calling thread is worker w's, else posts it there.
    template <class Fn>
    void run_on(unsigned w, Fn&& fn);
    // Runs fn(local_hub) on every worker in `workers`, then after(): the caller's join point.
    void on_workers(const std::vector<unsigned>& workers, std::function<void(unsigned, local_hub&)> fn,
                    std::function<void()> after);
    bool is_local(const std::string& id) const;
    void for_user(const std::string& user, std::function<void(core::connection&, local_hub&)> fn,
                  count_fn done, std::function<void(count_fn)> remote);

    core::process_state& state_;
    std::string node_;
    room_index rooms_;
    connection_table connections_;
    std::vector<std::unique_ptr<local_hub>> locals_;
    local_bus local_bus_;
    bus* bus_ = &local_bus_;
};

}  // namespace wsgated::hub
