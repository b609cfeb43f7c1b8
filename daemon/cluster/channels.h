// channels: the names wsgated uses in Redis, its pub/sub channels and its presence keys
// (SPEC §8). One place, so that every node of a cluster (and every version of wsgated that
// may meet in a rolling upgrade) agrees on them.
//
// Each name carries a Redis hash tag ({…}): the room's channel and every node's presence key
// for that room hash to one slot, so on a Redis Cluster a room lives on one shard with its
// sharded pub/sub channel. `scope` separates clusters that share one Redis: pub/sub channels
// are not per database, so the database number is part of every name.
#pragma once

#include <string>
#include <string_view>

namespace wsgated::cluster {

class channels {
public:
    explicit channels(int db) : prefix_("wsg:" + std::to_string(db) + ":") {}

    // Pub/sub: a room's publishes (nodes with members subscribe), one node's calls and
    // answers, and what every node hears (broadcasts, user-wide calls, a new node's hello).
    std::string room(std::string_view r) const { return prefix_ + "{r:" + std::string(r) + "}"; }
    std::string node(std::string_view tag) const { return prefix_ + "{n:" + std::string(tag) + "}"; }
    std::string all() const { return prefix_ + "{all}"; }

    // Presence, each node's share under its own key that expires unless refreshed:
    // a hash of the node's members of a room (id → user), of a user's connections (id → ""),
    // and the node's liveness key (its connection count and name).
    std::string room_members(std::string_view r, std::string_view tag) const {
        return room(r) + ":" + std::string(tag);
    }
    std::string user_connections(std::string_view u, std::string_view tag) const {
        return prefix_ + "{u:" + std::string(u) + "}:" + std::string(tag);
    }
    std::string node_alive(std::string_view tag) const { return node(tag) + ":alive"; }

    // The room a room channel names, or empty when `channel` is no room channel.
    std::string_view room_of(std::string_view channel) const {
        if (!channel.starts_with(prefix_)) return {};
        channel.remove_prefix(prefix_.size());
        if (!channel.starts_with("{r:") || !channel.ends_with("}")) return {};
        return channel.substr(3, channel.size() - 4);
    }

private:
    std::string prefix_;
};

}  // namespace wsgated::cluster
