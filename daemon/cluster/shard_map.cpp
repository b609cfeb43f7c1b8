// shard_map: see shard_map.h.
#include "cluster/shard_map.h"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace wsgated::cluster {
namespace {

// The value named `name` in a flat [name, value, name, value, …] array, or nullptr.
const redisReply* field(const redisReply& flat, std::string_view name) {
    if (flat.type != REDIS_REPLY_ARRAY) return nullptr;
    for (std::size_t i = 0; i + 1 < flat.elements; i += 2)
        if (text_of(flat.element[i]) == name) return flat.element[i + 1];
    return nullptr;
}

long long integer_of(const redisReply* r) {
    if (!r) return -1;
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    long long v = -1;
    auto t = text_of(r);
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
}

bool parse_port(std::string_view t, std::uint16_t& port) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size() || v == 0 || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}

// The serving master of one shard's "nodes" list.
std::optional<shard_address> master_of(const redisReply* nodes, bool tls) {
    if (!nodes || nodes->type != REDIS_REPLY_ARRAY) return std::nullopt;
    for (std::size_t i = 0; i < nodes->elements; ++i) {
        const redisReply& n = *nodes->element[i];
        if (text_of(field(n, "role")) != "master" || text_of(field(n, "health")) == "failed") continue;
        shard_address a;
        a.host = std::string(text_of(field(n, "endpoint")));
        if (a.host.empty() || a.host == "?") a.host = std::string(text_of(field(n, "ip")));
        long long port = integer_of(field(n, tls ? "tls-port" : "port"));
        if (a.host.empty() || port <= 0 || port > 65535) continue;
        a.port = static_cast<std::uint16_t>(port);
        return a;
    }
    return std::nullopt;
}

}  // namespace

std::string shard_address::text() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::size_t shard_map::unserved() const { return static_cast<std::size_t>(std::count(owner.begin(), owner.end(), no_shard)); }

std::optional<shard_map> parse_cluster_shards(const redisReply& r, bool tls, std::string& why) {
    if (r.type != REDIS_REPLY_ARRAY) {
        why = r.type == REDIS_REPLY_ERROR && r.len ? std::string(text_of(&r)) : "not a list of shards";
        return std::nullopt;
    }
    shard_map map;
    for (std::size_t s = 0; s < r.elements; ++s) {
        const redisReply& shard = *r.element[s];
        const redisReply* slots = field(shard, "slots");
        if (!slots || slots->type != REDIS_REPLY_ARRAY || slots->elements % 2) {
            why = "a shard without a slots list";
            return std::nullopt;
        }
        auto master = master_of(field(shard, "nodes"), tls);
        if (!master) continue;  // its slots stay unserved until a replica takes over
        auto at = std::find(map.masters.begin(), map.masters.end(), *master);
        auto index = static_cast<std::uint16_t>(at - map.masters.begin());
        if (at == map.masters.end()) map.masters.push_back(*master);
        for (std::size_t i = 0; i < slots->elements; i += 2) {
            long long from = integer_of(slots->element[i]), to = integer_of(slots->element[i + 1]);
            if (from < 0 || to < from || to >= slot_count) {
                why = "a slot range outside 0-16383";
                return std::nullopt;
            }
            std::fill(map.owner.begin() + from, map.owner.begin() + to + 1, index);
        }
    }
    if (map.masters.empty()) {
        why = "no shard has a serving master";
        return std::nullopt;
    }
    // In address order: Redis lists shards in any order, the indices must not move with it.
    std::vector<std::uint16_t> order(map.masters.size());
    for (std::uint16_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto x, auto y) {
        const auto &a = map.masters[x], &b = map.masters[y];
        return std::tie(a.host, a.port) < std::tie(b.host, b.port);
    });
    std::vector<std::uint16_t> rank(order.size());
    for (std::uint16_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
    shard_map sorted;
    for (auto i : order) sorted.masters.push_back(map.masters[i]);
    for (std::size_t s = 0; s < slot_count; ++s)
        sorted.owner[s] = map.owner[s] == no_shard ? no_shard : rank[map.owner[s]];
    return sorted;
}

std::optional<redirect> parse_redirect(std::string_view e) {
    redirect r;
    if (e.starts_with("MOVED ")) e.remove_prefix(6);
    else if (e.starts_with("ASK ")) r.ask = true, e.remove_prefix(4);
    else return std::nullopt;
    auto space = e.find(' ');
    unsigned slot = 0;
    if (space == std::string_view::npos) return std::nullopt;
    auto [end, ec] = std::from_chars(e.data(), e.data() + space, slot);
    if (ec != std::errc() || end != e.data() + space || slot >= slot_count) return std::nullopt;
    r.slot = static_cast<std::uint16_t>(slot);
    auto addr = e.substr(space + 1);
    auto colon = addr.rfind(':');
    if (colon == std::string_view::npos || !parse_port(addr.substr(colon + 1), r.to.port)) return std::nullopt;
    auto host = addr.substr(0, colon);
    if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
    r.to.host = std::string(host);  // empty ("MOVED 1 :6380"): the host that answered
    return r;
}

}  // namespace wsgated::cluster
