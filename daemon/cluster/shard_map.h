// shard_map: which Redis Cluster master serves which hash slot, read from CLUSTER SHARDS
// (Redis 7), and the redirections (MOVED, ASK) a master answers when a slot is elsewhere.
// Pure functions over replies: no I/O, so they are unit-tested and fuzzable on their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/key_slot.h"
#include "cluster/resp.h"

namespace wsgated::cluster {

struct shard_address {
    std::string host;  // the node's announced endpoint (an address, or a host name)
    std::uint16_t port = 0;
    bool operator==(const shard_address&) const = default;
    std::string text() const;  // "host:port", "[::1]:port"
};

inline constexpr std::uint16_t no_shard = 0xFFFF;

struct shard_map {
    std::vector<shard_address> masters;
    std::vector<std::uint16_t> owner = std::vector<std::uint16_t>(slot_count, no_shard);  // slot → masters[i]
    std::size_t unserved() const;  // slots no master serves (a shard whose master failed, say)
};

// CLUSTER SHARDS' reply (RESP2: a flat list of names and values per shard and per node). A
// shard's master is its node with role "master" whose health is not "failed"; its address is
// the announced endpoint ("ip" when the endpoint is unknown, "?") and its port, or its tls-port
// for rediss://. nullopt with `why` when the reply is not a shard list.
std::optional<shard_map> parse_cluster_shards(const redisReply& r, bool tls, std::string& why);

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381"; nullopt for any other error. An
// empty host ("MOVED 3999 :6381") means the host that answered.
struct redirect {
    bool ask = false;
    std::uint16_t slot = 0;
    shard_address to;
};
std::optional<redirect> parse_redirect(std::string_view error);

}  // namespace wsgated::cluster
