// config_diff: see config_diff.h.
#include "config/config_diff.h"

#include <algorithm>
#include <tuple>

namespace wsgated::config {
namespace {

using kind = config_change::kind;

class differ {
public:
    explicit differ(std::vector<config_change>& out) : out_(out) {}

    template <class T>
    void field(const std::string& key, const T& a, const T& b) {
        if (!(a == b)) out_.push_back({kind::changed, key});
    }

    // Entries matched by name: added, removed, or changed when `same` says they differ.
    template <class Map, class Same>
    void by_name(const std::string& prefix, const Map& a, const Map& b, Same same) {
        for (const auto& [name, va] : a) {
            auto it = b.find(name);
            if (it == b.end()) out_.push_back({kind::removed, prefix + name});
            else if (!same(va, it->second)) out_.push_back({kind::changed, prefix + name});
        }
        for (const auto& [name, _] : b)
            if (!a.count(name)) out_.push_back({kind::added, prefix + name});
    }

private:
    std::vector<config_change>& out_;
};

auto tls_fields(const std::optional<tls_config>& t) {
    return t ? std::make_tuple(true, t->cert_file, t->key_file, t->min_version)
             : std::make_tuple(false, std::string(), std::string(), std::string());
}

bool same_listener(const listen_config& a, const listen_config& b) {
    return a.address == b.address && a.proxy_protocol == b.proxy_protocol && a.unix_path == b.unix_path &&
           tls_fields(a.tls) == tls_fields(b.tls);
}

std::map<std::string, listen_config> listeners_by_key(const std::vector<listen_config>& all) {
    std::map<std::string, listen_config> out;
    auto keys = listener_keys(all);
    for (std::size_t i = 0; i < all.size(); ++i) out.emplace(keys[i], all[i]);
    return out;
}

auto backend_fields(const backend_config& b) {
    return std::tie(b.type, b.url, b.timeout, b.max_connections, b.path, b.host, b.port, b.max_buffer);
}

bool same_token_sources(const std::vector<token_source>& a, const std::vector<token_source>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const token_source& x, const token_source& y) {
        return x.where == y.where && x.name == y.name;
    });
}

bool same_auth(const auth_config& a, const auth_config& b) {
    const auto &ha = a.http, &hb = b.http;
    const auto &ja = a.jwt, &jb = b.jwt;
    return a.type == b.type &&
           std::tie(ha.url, ha.forward_headers, ha.timeout, ha.cache_ttl, ha.cache_size, ha.cache_negative) ==
               std::tie(hb.url, hb.forward_headers, hb.timeout, hb.cache_ttl, hb.cache_size, hb.cache_negative) &&
           std::tie(ja.algorithms, ja.key_file, ja.jwks_file, ja.audience, ja.issuer, ja.leeway) ==
               std::tie(jb.algorithms, jb.key_file, jb.jwks_file, jb.audience, jb.issuer, jb.leeway) &&
           same_token_sources(ja.token_from, jb.token_from);
}

auto compression_fields(const compression_config& c) {
    return std::tie(c.enabled, c.threshold, c.server_max_window_bits, c.client_max_window_bits,
                    c.server_no_context_takeover, c.client_no_context_takeover, c.level, c.mem_level);
}

bool same_route(const route_config& a, const route_config& b) {
    return std::tie(a.backend, a.rooms, a.origins, a.subprotocols, a.events, a.rate_limit) ==
               std::tie(b.backend, b.rooms, b.origins, b.subprotocols, b.events, b.rate_limit) &&
           compression_fields(a.compression) == compression_fields(b.compression) && same_auth(a.auth, b.auth);
}

std::map<std::string, route_config> routes_by_path(const std::vector<route_config>& all) {
    std::map<std::string, route_config> out;
    for (const auto& r : all) out.emplace("[" + r.path + "]", r);
    return out;
}

// The paths of `routes` that `other` has too, in file order: only a reorder shows here.
std::vector<std::string> paths_of(const std::vector<route_config>& routes, const std::vector<route_config>& other) {
    std::vector<std::string> out;
    for (const auto& r : routes)
        if (std::any_of(other.begin(), other.end(), [&](const route_config& o) { return o.path == r.path; }))
            out.push_back(r.path);
    return out;
}

std::vector<std::string> proxy_texts(const std::vector<cidr>& all) {
    std::vector<std::string> out;
    for (const auto& c : all) out.push_back(c.text);
    return out;
}

void diff_server(differ& d, const server_config& a, const server_config& b) {
    d.field("server.workers", a.workers, b.workers);
    d.by_name("server.listen", listeners_by_key(a.listen), listeners_by_key(b.listen), same_listener);
    d.field("server.trusted_proxies", proxy_texts(a.trusted_proxies), proxy_texts(b.trusted_proxies));
    const auto &la = a.limits, &lb = b.limits;
    d.field("server.limits.max_connections", la.max_connections, lb.max_connections);
    d.field("server.limits.max_connections_per_ip", la.max_connections_per_ip, lb.max_connections_per_ip);
    d.field("server.limits.handshake_timeout", la.handshake_timeout, lb.handshake_timeout);
    d.field("server.limits.max_message_size", la.max_message_size, lb.max_message_size);
    d.field("server.limits.send_queue", la.send_queue, lb.send_queue);
    d.field("server.limits.messages_per_second", la.messages_per_second, lb.messages_per_second);
    d.field("server.heartbeat.interval", a.heartbeat.interval, b.heartbeat.interval);
    d.field("server.heartbeat.timeout", a.heartbeat.timeout, b.heartbeat.timeout);
    d.field("server.drain_timeout", a.drain_timeout, b.drain_timeout);
    d.field("server.demo_page", a.demo_page, b.demo_page);
    d.field("server.log.level", a.log.level, b.log.level);
    d.field("server.log.format", a.log.format, b.log.format);
}

void diff_admin(differ& d, const admin_config& a, const admin_config& b) {
    d.field("admin.listen", a.listen.address, b.listen.address);
    d.field("admin.token", a.token, b.token);
    d.field("admin.control_listen", a.control_listen ? a.control_listen->address : std::string(),
            b.control_listen ? b.control_listen->address : std::string());
}

void diff_cluster(differ& d, const cluster_config& a, const cluster_config& b) {
    d.field("cluster.redis", a.redis, b.redis);
    d.field("cluster.node_id", a.node_id, b.node_id);
    d.field("cluster.node_ttl", a.node_ttl, b.node_ttl);
    d.field("cluster.tls_ca_file", a.tls_ca_file, b.tls_ca_file);
}

}  // namespace

std::vector<std::string> listener_keys(const std::vector<listen_config>& all) {
    std::vector<std::string> out;
    std::map<std::string, int> seen;
    for (const auto& l : all) {
        int n = seen[l.address]++;
        out.push_back("[" + l.address + (n ? "#" + std::to_string(n + 1) : "") + "]");
    }
    return out;
}

std::vector<config_change> diff(const gateway_config& before, const gateway_config& after) {
    std::vector<config_change> out;
    differ d(out);
    diff_server(d, before.server, after.server);
    diff_admin(d, before.admin, after.admin);
    d.by_name("backends.", before.backends, after.backends,
              [](const backend_config& a, const backend_config& b) { return backend_fields(a) == backend_fields(b); });
    d.by_name("routes", routes_by_path(before.routes), routes_by_path(after.routes), same_route);
    // The first route in file order wins among parametrised ones: a new order may match anew.
    d.field("routes (order)", paths_of(before.routes, after.routes), paths_of(after.routes, before.routes));
    diff_cluster(d, before.cluster, after.cluster);
    return out;
}

const char* kind_name(config_change::kind k) {
    switch (k) {
    case kind::added: return "added";
    case kind::removed: return "removed";
    case kind::changed: return "changed";
    }
    return "changed";
}

bool same_backend(const backend_config& a, const backend_config& b) { return backend_fields(a) == backend_fields(b); }

bool needs_restart(const std::string& key) { return key == "server.workers" || key.starts_with("cluster."); }

}  // namespace wsgated::config
