// presence: this node's share of the cluster-wide view (SPEC §8), kept in Redis so that any
// node can count a room's members and list them, or a user's connections, without asking
// every node: per room and per user, one hash per node (ids → user), each expiring node_ttl
// after this node last refreshed it, so a node that dies takes its members with it within
// node_ttl. Plus the node's liveness key, written once a second while the node is in sync
// (subscribed, its share written): a node heard from lately whose liveness key is missing is
// reconnecting, and its share is unknown. The other nodes are known from their probes, which
// every node hears once a second on the channel all nodes share.
//
// The share is mirrored here (room → id → user, user → ids) so that a reconnect to Redis,
// after the keys may have expired, writes it whole again. Changes reach Redis as they happen,
// pipelined on the command link.
//
// Owned by cluster_bus; on the control thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cluster/channels.h"
#include "cluster/redis_shards.h"
#include "hub/answers.h"

namespace wsgated::cluster {

class presence {
public:
    using clock = std::chrono::steady_clock;
    presence(const channels& names, std::string self, std::string node_id, std::chrono::milliseconds ttl);

    // The mirror and Redis (when `cmd` is up). joined/left say whether the room gained its
    // first or lost its last local member (the bus then subscribes or unsubscribes).
    bool joined(const std::string& room, const std::string& id, const std::string& user, redis_shards& cmd);
    bool left(const std::string& room, const std::string& id, redis_shards& cmd);
    void entered(const std::string& id, const std::string& user, redis_shards& cmd);
    void exited(const std::string& id, const std::string& user, redis_shards& cmd);

    // After a (re)connect: the whole share again, then refresh().
    void rewrite(redis_shards& cmd);
    // Every node_ttl / 3: the keys' expiry pushed back.
    void refresh(redis_shards& cmd);
    // Every second while in sync: the liveness key (with the connection count, for operators).
    void write_alive(redis_shards& cmd);
    void drop_alive(redis_shards& cmd);
    // A graceful stop: deletes the liveness key and every key of the share; `done` once Redis
    // has answered them all (or the link is gone).
    void withdraw(redis_shards& cmd, std::function<void()> done);
    // Another node was heard (its probe, a call). Nodes not heard for node_ttl are forgotten.
    void heard(std::string_view tag, clock::time_point now);
    void forget_silent(clock::time_point now);
    // Nodes heard within `within`, this one excluded.
    std::size_t heard_within(clock::duration within, clock::time_point now) const;
    // Whether node `tag` was heard within node_ttl (it is not forgotten yet): alive, maybe
    // reconnecting.
    bool knows(std::string_view tag) const { return others_.find(tag) != others_.end(); }
    // Redis refused a write of the share (its error text): the owner rewrites it soon.
    void on_write_error(std::function<void(std::string_view)> f) { on_write_error_ = std::move(f); }
    // This node is in sync again (after a reconnect, when Redis may have lost every key): a node
    // not heard since, and out of sync, may not have written its share yet.
    void synced(clock::time_point at) { synced_at_ = at; }

    // A fan-out's needs (pending_calls::needs): the other nodes that must hear it — heard in the
    // last 3 s, in sync, and (for a room) holding members — and whether a node heard within
    // node_ttl / 2 is out of sync (reconnecting: its share unknown).
    using needs_fn = std::function<void(std::set<std::string> needed, bool unknown)>;
    void needs_for_room(const std::string& room, redis_shards& cmd, needs_fn done);
    void needs_for_all(redis_shards& cmd, needs_fn done);

    std::vector<std::string> rooms() const;
    std::uint64_t connections() const { return connections_; }
    bool has_room(const std::string& room) const { return rooms_.count(room) != 0; }

    // The other nodes' share, read from Redis. `unavailable` when Redis cannot be asked.
    void room_count(const std::string& room, redis_shards& cmd, hub::count_fn done);
    void room_members(const std::string& room, redis_shards& cmd, hub::members_fn done);
    void user_connections(const std::string& user, redis_shards& cmd, hub::members_fn done);

private:
    void write_room(const std::string& room, redis_shards& cmd);
    void write_user(const std::string& user, redis_shards& cmd);
    void expire(const std::string& key, redis_shards& cmd);
    // One command per other node, `each` gets its reply; `done` runs after the last.
    void ask_others(redis_shards& cmd, std::function<std::string(const std::string& node)> key, const char* verb,
                    std::function<void(const std::string& node, const redisReply&)> each,
                    std::function<void(hub::outcome)> done);
    void needs(redis_shards& cmd, const std::string* room, needs_fn done);
    redis_shards::reply_fn checked();

    const channels& names_;
    // The liveness key lives 3-5 s (refreshed every second while in sync), not node_ttl: a node
    // cut off from Redis is out of sync for the others within seconds, not after node_ttl.
    std::string self_, node_id_, ttl_ms_, alive_ttl_ms_;
    std::unordered_map<std::string, std::unordered_map<std::string, std::string>> rooms_;  // room → id → user
    std::unordered_map<std::string, std::unordered_set<std::string>> users_;               // user → ids
    std::uint64_t connections_ = 0;
    std::chrono::milliseconds ttl_;
    std::map<std::string, clock::time_point, std::less<>> others_;  // the other nodes, when last heard
    clock::time_point synced_at_{};
    std::function<void(std::string_view)> on_write_error_;
};

}  // namespace wsgated::cluster
