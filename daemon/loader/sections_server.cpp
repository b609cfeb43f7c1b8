// sections_server: the `server`, `admin` and `cluster` sections (see sections.h).
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <thread>

#include "config/read_file.h"
#include "loader/formats.h"
#include "loader/sections.h"
#include "net/tls_context.h"

namespace wsgated::config {
namespace {

// Reads one "host:port" value into `out`; false when it is absent, refused or malformed.
bool build_address(const document& doc, error_list& errors, const key_path& at,
                   listen_config& out) {
    const node_value* v = doc.get(at);
    if (!v) return false;
    std::string why;
    if (!parse_listen_address(v->text, out.host, out.port, why)) {
        errors.add(v->mark, at.path, why);
        return false;
    }
    out.address = v->text;
    out.mark = v->mark;
    return true;
}

// Builds the TLS context now, so that a missing or mismatched file is a config error that
// names the key, not a failure on the first handshake.
void build_tls(const document& doc, error_list& errors, const key_path& at,
               std::optional<tls_config>& out) {
    if (!doc.get(at)) return;  // plain listener (or a refused value, already reported)
    const node_value* cert = doc.get(at.key("cert"));
    const node_value* key = doc.get(at.key("key"));
    const node_value* min_version = doc.get(at.key("min_version"));
    if (!cert || !key || !min_version) return;
    tls_config tls;
    tls.cert_file = cert->text;
    tls.key_file = key->text;
    tls.min_version = min_version->text;
    net::tls_result made = net::make_tls_context({tls.cert_file, tls.key_file, tls.min_version});
    if (!made.error.empty()) {
        key_path about = at.key(made.error_key.empty() ? "cert" : made.error_key);
        errors.add(doc.mark(about), about.path, made.error);
        return;
    }
    tls.context = std::move(made.context);
    out = std::move(tls);
}

// Port 0 asks the kernel for a free port each time, so two of them never collide.
const listen_config* same_address(const std::vector<listen_config>& listeners,
                                  const listen_config& l) {
    if (l.port == 0) return nullptr;
    for (const auto& other : listeners)
        if (other.port == l.port && other.host == l.host) return &other;
    return nullptr;
}

void build_listeners(const document& doc, error_list& errors, std::vector<listen_config>& out) {
    key_path at{"server.listen", "server.listen"};
    if (doc.get(at) && doc.count(at) == 0)
        errors.add(doc.mark(at), at.path, "at least one listener is needed");
    for (std::size_t i = 0; i < doc.count(at); ++i) {
        key_path item = at.item(i);
        listen_config l;
        if (!build_address(doc, errors, item.key("address"), l)) continue;
        if (const listen_config* dup = same_address(out, l)) {
            errors.add(l.mark, item.key("address").path,
                       "address " + l.address + " is already used by another listener (line " +
                           std::to_string(dup->mark.line) + ")");
            continue;
        }
        l.proxy_protocol = doc.flag(item.key("proxy_protocol"));
        build_tls(doc, errors, item.key("tls"), l.tls);
        out.push_back(std::move(l));
    }
}

void build_trusted_proxies(const document& doc, error_list& errors, std::vector<cidr>& out) {
    key_path at{"server.trusted_proxies", "server.trusted_proxies"};
    for (std::size_t i = 0; i < doc.count(at); ++i) {
        const node_value* v = doc.get(at.item(i));
        if (!v) continue;
        cidr c;
        std::string why;
        if (parse_cidr(v->text, c, why)) out.push_back(std::move(c));
        else errors.add(v->mark, at.item(i).path, why);
    }
}

void build_limits(const document& doc, limits_config& out) {
    key_path at{"server.limits", "server.limits"};
    out.max_connections = doc.number(at.key("max_connections"));
    out.max_connections_per_ip = doc.number(at.key("max_connections_per_ip"));
    out.handshake_timeout = doc.time(at.key("handshake_timeout"));
    out.max_message_size = doc.number(at.key("max_message_size"));
    out.send_queue = doc.number(at.key("send_queue"));
    // The schema bounds it to 10^9, which fits.
    out.messages_per_second = static_cast<std::uint32_t>(doc.number(at.key("messages_per_second")));
}

void build_heartbeat(const document& doc, error_list& errors, heartbeat_config& out) {
    key_path at{"server.heartbeat", "server.heartbeat"};
    out.interval = doc.time(at.key("interval"));
    out.timeout = doc.time(at.key("timeout"));
    const node_value* timeout = doc.get(at.key("timeout"));
    if (out.interval.count() > 0 && timeout && out.timeout.count() == 0)
        errors.add(timeout->mark, at.key("timeout").path,
                   "must be greater than 0 while the heartbeat is on (interval 0 turns it off)");
}

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "wsgated";
    return buf;
}

}  // namespace

void build_server(const document& doc, error_list& errors, server_config& out) {
    key_path at{"server", "server"};
    auto workers = static_cast<unsigned>(doc.number(at.key("workers")));  // 0 = auto
    out.workers = workers ? workers : std::max(1u, std::thread::hardware_concurrency());
    build_listeners(doc, errors, out.listen);
    build_trusted_proxies(doc, errors, out.trusted_proxies);
    build_limits(doc, out.limits);
    build_heartbeat(doc, errors, out.heartbeat);
    out.drain_timeout = doc.time(at.key("drain_timeout"));
    if (const node_value* demo = doc.get(at.key("demo_page"))) {
        if (!demo->text.starts_with('/') || demo->text.find_first_of("?#") != std::string::npos)
            errors.add(demo->mark, "server.demo_page", "must be a path: start with '/', no '?' or '#'");
        else
            out.demo_page = demo->text;
    }
    out.log.level = doc.text(at.key("log").key("level"));
    out.log.format = doc.text(at.key("log").key("format")) == "text" ? log_format::text
                                                                      : log_format::json;
}

namespace {

// "unix:/abs/path.sock" or host:port; false when absent or refused.
bool build_control_address(const document& doc, error_list& errors, const key_path& at, listen_config& out) {
    const node_value* v = doc.get(at);
    if (!v || v->text.empty()) return false;  // `${VAR}` unset: no separate listener
    if (!v->text.starts_with("unix:")) return build_address(doc, errors, at, out);
    std::string why;
    if (!check_socket_path(std::string_view(v->text).substr(5), why)) {
        errors.add(v->mark, at.path, why);
        return false;
    }
    out.address = v->text;
    out.unix_path = v->text.substr(5);
    out.mark = v->mark;
    return true;
}

// An admin address that a server listener (or the other admin listener) already has.
void check_admin_address(error_list& errors, const std::string& key, const listen_config& l,
                         const std::vector<listen_config>& others) {
    if (const listen_config* dup = same_address(others, l))
        errors.add(l.mark, key,
                   "address " + l.address + " is also a server listener" +
                       (dup->mark.line ? " (line " + std::to_string(dup->mark.line) + ")" : ""));
}

}  // namespace

void build_admin(const document& doc, error_list& errors, const server_config& server,
                 admin_config& out) {
    key_path at{"admin", "admin"};
    out.token = doc.text(at.key("token"));
    if (!build_address(doc, errors, at.key("listen"), out.listen)) return;
    check_admin_address(errors, "admin.listen", out.listen, server.listen);
    listen_config control;
    if (!build_control_address(doc, errors, at.key("control_listen"), control)) return;
    if (control.unix_path.empty()) {
        check_admin_address(errors, "admin.control_listen", control, server.listen);
        if (same_address({out.listen}, control))
            return errors.add(control.mark, "admin.control_listen",
                              "address " + control.address + " is admin.listen's; leave control_listen "
                              "out to serve /v1 there");
    }
    out.control_listen = std::move(control);
}

void build_cluster(const document& doc, error_list& errors, cluster_config& out) {
    key_path at{"cluster", "cluster"};
    // An empty value (`redis: ${REDIS_URL}` with the variable unset) means a single node.
    if (const node_value* redis = doc.get(at.key("redis")); redis && !redis->text.empty()) {
        std::string why;
        if (!parse_redis_urls(redis->text, out, why)) errors.add(redis->mark, "cluster.redis", why);
    }
    out.node_id = doc.text(at.key("node_id"));
    if (out.node_id.empty()) out.node_id = host_name();
    out.node_ttl = doc.time(at.key("node_ttl"));
    if (const node_value* ca = doc.get(at.key("tls_ca_file")); ca && !ca->text.empty()) {
        std::string contents, why;
        if (!read_file(ca->text, contents, why)) errors.add(ca->mark, "cluster.tls_ca_file", why);
        else if (contents.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
            errors.add(ca->mark, "cluster.tls_ca_file", "'" + ca->text + "' holds no PEM certificate");
        else out.tls_ca_file = ca->text;
    }
}

}  // namespace wsgated::config
