// schema: see schema.h. The table below is the configuration reference: docs/configuration.md
// is rendered from it row by row, and every default here goes through the same walk as the file.
#include "loader/schema.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "loader/units.h"

namespace wsgated::config {
namespace {

constexpr std::string_view http_url = "http://host[:port]/path or unix:/socket.sock:/path";

// A namespace of its own, so that `using enum` (value_kind::duration) does not meet
// config::duration elsewhere in this file.
namespace rows {
using enum value_kind;

// GCC before 14 warns about members left out of a designated initializer even when they have a
// default; leaving them out is the point of the table's layout.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
// clang-format off
constexpr std::array table{
    schema_entry{.path = "server", .kind = map, .default_text = "{}",
        .doc = "The public side: listeners, limits, heartbeat and logging."},
    schema_entry{.path = "server.workers", .kind = auto_integer, .default_text = "auto",
        .min = 1, .max = 1024, .doc = "Event-loop threads; auto = the number of CPUs."},
    schema_entry{.path = "server.listen", .kind = list,
        .default_text = "[{address: \"0.0.0.0:8080\"}]",
        .doc = "Public listeners; each connection stays on one worker."},
    schema_entry{.path = "server.listen[]", .kind = map, .doc = "One listener."},
    schema_entry{.path = "server.listen[].address", .format = "host:port", .required = true,
        .doc = "IPv4 literal, [IPv6] literal or localhost, and a port; port 0 = a free one."},
    schema_entry{.path = "server.listen[].proxy_protocol", .kind = boolean,
        .default_text = "false",
        .doc = "Take the client address from a PROXY protocol v1/v2 header."},
    schema_entry{.path = "server.listen[].tls", .kind = map,
        .doc = "Serve TLS (wss://) on this listener; absent = plain."},
    schema_entry{.path = "server.listen[].tls.cert", .format = "file", .required = true,
        .doc = "PEM certificate chain, leaf first; read again on reload."},
    schema_entry{.path = "server.listen[].tls.key", .format = "file", .required = true,
        .doc = "PEM private key of the certificate."},
    schema_entry{.path = "server.listen[].tls.min_version", .kind = enumeration,
        .default_text = "\"1.2\"", .allowed = "1.2|1.3", .doc = "Oldest TLS version accepted."},
    schema_entry{.path = "server.trusted_proxies", .kind = list, .default_text = "[]",
        .doc = "Peers whose X-Forwarded-For / X-Real-IP headers are believed."},
    schema_entry{.path = "server.trusted_proxies[]", .format = "CIDR",
        .doc = "An address or a network: 10.0.0.0/8, ::1/128, 192.0.2.7."},
    schema_entry{.path = "server.limits", .kind = map, .default_text = "{}",
        .doc = "Bounds on connections, handshakes and messages."},
    schema_entry{.path = "server.limits.max_connections", .kind = integer,
        .default_text = "100000", .min = 1,
        .doc = "Open client connections; beyond it a handshake gets 503."},
    schema_entry{.path = "server.limits.max_connections_per_ip", .kind = integer,
        .default_text = "1000", .min = 1,
        .doc = "Open connections from one client address; beyond it a handshake gets 429."},
    schema_entry{.path = "server.limits.handshake_timeout", .kind = duration,
        .default_text = "5s", .min = 1,
        .doc = "Time for the whole HTTP upgrade (PROXY header, TLS, auth hook included), and for a closing handshake the server starts."},
    schema_entry{.path = "server.limits.max_message_size", .kind = size,
        .default_text = "1MiB", .min = 1,
        .doc = "Largest message, after decompression; a larger one closes 1009."},
    schema_entry{.path = "server.limits.send_queue", .kind = size, .default_text = "4MiB",
        .min = 1, .doc = "Bytes queued to one client behind the write in flight and not yet taken by its socket; beyond it closes 1008 (slow consumer), or drops the TCP connection of a client that keeps pinging without reading. One message of up to `max_message_size` always gets through on its own."},
    schema_entry{.path = "server.limits.messages_per_second", .kind = integer,
        .default_text = "0", .max = 1'000'000'000,
        .doc = "Per-connection token bucket (burst = 2x); 0 = off."},
    schema_entry{.path = "server.heartbeat", .kind = map, .default_text = "{}",
        .doc = "Ping each connection; reap those that stop answering."},
    schema_entry{.path = "server.heartbeat.interval", .kind = duration, .default_text = "30s",
        .doc = "Time between pings; 0 = no heartbeat."},
    schema_entry{.path = "server.heartbeat.timeout", .kind = duration, .default_text = "10s",
        .doc = "No pong or data this long after a ping = close; > 0 when interval > 0."},
    schema_entry{.path = "server.demo_page",
        .doc = "A path where a plain GET (a browser) gets a built-in page that connects to a route "
               "and shows what comes back; absent = off. Try it, then turn it off."},
    schema_entry{.path = "server.drain_timeout", .kind = duration, .default_text = "30s",
        .doc = "On SIGTERM/SIGINT, how long closing connections may take before exit."},
    schema_entry{.path = "server.log", .kind = map, .default_text = "{}",
        .doc = "Logging, to standard error."},
    schema_entry{.path = "server.log.level", .kind = enumeration, .default_text = "info",
        .allowed = "trace|debug|info|warn|error|critical|off",
        .doc = "Least severe level logged."},
    schema_entry{.path = "server.log.format", .kind = enumeration, .default_text = "json",
        .allowed = "json|text", .doc = "One JSON object per line, or plain text."},
    schema_entry{.path = "admin", .kind = map, .default_text = "{}",
        .doc = "Metrics, health checks and the control API; keep it private."},
    schema_entry{.path = "admin.listen", .default_text = "127.0.0.1:9090",
        .format = "host:port",
        .doc = "Address of the admin listener (plain HTTP)."},
    schema_entry{.path = "admin.control_listen",
        .format = "host:port or unix:/path.sock",
        .doc = "Serve the control API (/v1) here instead of on admin.listen, which keeps /metrics "
               "and the health checks; a Unix socket is created with mode 0660. Absent = /v1 on "
               "admin.listen."},
    schema_entry{.path = "admin.token",
        .doc = "Bearer token for /v1/*; empty = /v1 answers 403. /metrics needs none."},
    schema_entry{.path = "backends", .kind = dict,
        .doc = "Backends by name; the built-in `echo` always exists and cannot be redefined."},
    schema_entry{.path = "backends.*", .kind = map,
        .doc = "One backend; its name is the key (letters, digits, '_', '-')."},
    schema_entry{.path = "backends.*.type", .kind = enumeration, .allowed = "http|stream",
        .required = true,
        .doc = "http: one POST per event; stream: one framed stream per worker (Unix socket or TCP)."},
    schema_entry{.path = "backends.*.url", .format = http_url, .variant = "http",
        .required = true, .doc = "Where events are POSTed (https is not supported yet)."},
    schema_entry{.path = "backends.*.timeout", .kind = duration, .default_text = "5s", .min = 1,
        .doc = "http: time for one request; stream: how long a client's events may wait while "
               "the backend is unreachable before it is closed 1013."},
    schema_entry{.path = "backends.*.max_connections", .kind = integer, .default_text = "64",
        .min = 1, .max = 100'000, .variant = "http",
        .doc = "Bound on the pooled keep-alive connections to the backend."},
    schema_entry{.path = "backends.*.path", .format = "/absolute/path.sock",
        .variant = "stream", .doc = "Unix socket of the stream backend (or `address`)."},
    schema_entry{.path = "backends.*.address", .format = "host:port", .variant = "stream",
        .doc = "TCP address of the stream backend (or `path`); a name is resolved at each connect."},
    schema_entry{.path = "backends.*.max_buffer", .kind = size, .default_text = "4MiB",
        .min = 64 * 1024, .max = 1024ull * 1024 * 1024, .variant = "stream",
        .doc = "Bytes waiting for the backend per worker's stream; past it the route's clients "
               "on that worker are not read until it is half empty."},
    schema_entry{.path = "routes", .kind = list, .required = true,
        .doc = "Paths served; at least one."},
    schema_entry{.path = "routes[]", .kind = map, .doc = "One route."},
    schema_entry{.path = "routes[].path", .format = "/literal/{param}", .required = true,
        .doc = "Request path; {name} matches one segment. Unique among routes."},
    schema_entry{.path = "routes[].backend", .format = "backend name", .required = true,
        .doc = "A key of `backends`, or `echo`."},
    schema_entry{.path = "routes[].auth", .kind = map,
        .doc = "Checked before the upgrade; absent = anyone may connect."},
    schema_entry{.path = "routes[].auth.type", .kind = enumeration, .allowed = "http|jwt",
        .required = true, .doc = "http: ask a hook; jwt: verify a token locally."},
    schema_entry{.path = "routes[].auth.url", .format = http_url, .variant = "http",
        .required = true, .doc = "The hook; a GET with the forwarded headers."},
    schema_entry{.path = "routes[].auth.forward_headers", .kind = list, .default_text = "[]",
        .variant = "http",
        .doc = "Request headers passed to the hook and in the connect event."},
    schema_entry{.path = "routes[].auth.forward_headers[]", .format = "header name",
        .doc = "A header name, case-insensitive."},
    schema_entry{.path = "routes[].auth.timeout", .kind = duration, .default_text = "0",
        .variant = "http", .doc = "Time for the hook; 0 = the handshake_timeout."},
    schema_entry{.path = "routes[].auth.cache_ttl", .kind = duration, .default_text = "0",
        .variant = "http",
        .doc = "Cache hook answers this long, keyed on the path and forwarded headers; 0 = off."},
    schema_entry{.path = "routes[].auth.cache_size", .kind = integer, .default_text = "10000",
        .min = 1, .max = 10'000'000, .variant = "http", .doc = "Most cached hook answers."},
    schema_entry{.path = "routes[].auth.cache_negative", .kind = boolean,
        .default_text = "false", .variant = "http",
        .doc = "Cache refusals (4xx but 408 and 429) as well; errors never."},
    schema_entry{.path = "routes[].auth.algorithms", .kind = list, .variant = "jwt",
        .required = true, .doc = "Signature algorithms accepted; `none` never is."},
    schema_entry{.path = "routes[].auth.algorithms[]", .kind = enumeration,
        .allowed = "HS256|HS384|HS512|RS256|RS384|RS512|ES256|ES384|ES512", .refused = "none",
        .refused_reason = "'none' is never accepted: an unsigned token proves nothing",
        .doc = "A JWS algorithm."},
    schema_entry{.path = "routes[].auth.key_file", .format = "file", .variant = "jwt",
        .doc = "PEM public key or HMAC secret; exactly one of key_file, jwks_file."},
    schema_entry{.path = "routes[].auth.jwks_file", .format = "file", .variant = "jwt",
        .doc = "JWKS document; the token's `kid` picks the key."},
    schema_entry{.path = "routes[].auth.token_from", .kind = list,
        .default_text = "[\"header:authorization\", \"query:token\"]", .variant = "jwt",
        .doc = "Where the token is looked for, in order."},
    schema_entry{.path = "routes[].auth.token_from[]",
        .format = "query:NAME, header:NAME or cookie:NAME",
        .doc = "One place; `header:authorization` may carry a `Bearer ` prefix."},
    schema_entry{.path = "routes[].auth.audience", .variant = "jwt",
        .doc = "Required `aud`; empty = not checked."},
    schema_entry{.path = "routes[].auth.issuer", .variant = "jwt",
        .doc = "Required `iss`; empty = not checked."},
    schema_entry{.path = "routes[].auth.leeway", .kind = duration, .default_text = "5s",
        .variant = "jwt", .doc = "Clock skew allowed when checking `exp` and `nbf`."},
    schema_entry{.path = "routes[].rooms", .kind = list, .default_text = "[]",
        .doc = "Rooms joined on connect."},
    schema_entry{.path = "routes[].rooms[]", .format = "room template",
        .doc = "Room name; may use {param}, {user} and {claims.NAME}."},
    schema_entry{.path = "routes[].origins", .kind = list,
        .doc = "Allowed Origin values; absent = any, [] = none; a mismatch is 403."},
    schema_entry{.path = "routes[].origins[]", .format = "scheme://host[:port]",
        .doc = "An origin, compared case-insensitively."},
    schema_entry{.path = "routes[].subprotocols", .kind = list, .default_text = "[]",
        .doc = "Subprotocols served; when set, a client must offer one of them (else 400)."},
    schema_entry{.path = "routes[].subprotocols[]", .format = "token",
        .doc = "A subprotocol name."},
    schema_entry{.path = "routes[].compression", .kind = map, .default_text = "{}",
        .doc = "permessage-deflate (RFC 7692)."},
    schema_entry{.path = "routes[].compression.enabled", .kind = boolean,
        .default_text = "false",
        .doc = "Negotiate permessage-deflate when a client offers it."},
    schema_entry{.path = "routes[].compression.threshold", .kind = size,
        .default_text = "1KiB", .doc = "Smaller messages are sent uncompressed."},
    schema_entry{.path = "routes[].compression.server_max_window_bits", .kind = integer,
        .default_text = "15", .min = 9, .max = 15,
        .doc = "LZ77 window of what the server sends (log2 bytes)."},
    schema_entry{.path = "routes[].compression.client_max_window_bits", .kind = integer,
        .default_text = "15", .min = 9, .max = 15,
        .doc = "LZ77 window asked of the client (log2 bytes)."},
    schema_entry{.path = "routes[].compression.server_no_context_takeover", .kind = boolean,
        .default_text = "false", .doc = "Reset the server's compressor after each message."},
    schema_entry{.path = "routes[].compression.client_no_context_takeover", .kind = boolean,
        .default_text = "false", .doc = "Ask the client to reset its compressor per message."},
    schema_entry{.path = "routes[].compression.level", .kind = integer, .default_text = "6",
        .min = 0, .max = 9, .doc = "zlib compression level."},
    schema_entry{.path = "routes[].compression.mem_level", .kind = integer,
        .default_text = "8", .min = 1, .max = 9, .doc = "zlib memory level."},
    schema_entry{.path = "routes[].events", .kind = list,
        .default_text = "[connect, message, disconnect]",
        .doc = "Which events reach the backend."},
    schema_entry{.path = "routes[].events[]", .kind = enumeration,
        .allowed = "connect|message|disconnect", .doc = "An event."},
    schema_entry{.path = "routes[].rate_limit", .kind = enumeration, .default_text = "close",
        .allowed = "close|drop",
        .doc = "Over messages_per_second: close 1008, or drop the message (counted)."},
    schema_entry{.path = "cluster", .kind = map, .default_text = "{}",
        .doc = "Several nodes sharing rooms, users and connections through Redis."},
    schema_entry{.path = "cluster.redis", .format = "redis[s]://[user:password@]host[:port][/db][, …]",
        .doc = "Redis used for pub/sub between nodes; absent = a single node. Several URLs, comma-separated: seed nodes of a Redis Cluster (also found from one)."},
    schema_entry{.path = "cluster.node_ttl", .kind = duration, .default_text = "15s", .min = 1000,
        .max = 3'600'000,
        .doc = "A node's share of the cluster-wide presence expires this long after it stops refreshing it."},
    schema_entry{.path = "cluster.tls_ca_file",
        .doc = "rediss://: PEM file of the CAs that sign Redis's certificate; absent = the system's."},
    schema_entry{.path = "cluster.node_id", .default_text = "(host name)",
        .doc = "This node's name in the cluster; empty = the host name."},
};
// clang-format on
#pragma GCC diagnostic pop
}  // namespace rows

using rows::table;

// "a|b|c" → "a, b, c"
std::string list_allowed(std::string_view allowed) {
    std::string out;
    for (char c : allowed) out += c == '|' ? std::string(", ") : std::string(1, c);
    return out;
}

std::string bound_value(const schema_entry& e, std::uint64_t v) {
    if (e.kind == value_kind::duration)
        return format_duration(config::duration(static_cast<config::duration::rep>(v)));
    if (e.kind == value_kind::size) return format_size(v);
    return std::to_string(v);
}

bool parse_integer(std::string_view text, std::uint64_t& out, std::string& error) {
    if (!text.empty() && text.front() == '-') { error = "must not be negative"; return false; }
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc::result_out_of_range) {
        error = "'" + std::string(text) + "' is too large";
        return false;
    }
    if (ec != std::errc{} || end != text.data() + text.size()) {
        error = "'" + std::string(text) + "' is not an integer";
        return false;
    }
    return true;
}

bool parse_boolean(std::string_view text, std::uint64_t& out, std::string& error) {
    // YAML 1.2's core schema: yes/no/on/off are strings there, so they are refused here rather
    // than read one way by us and another way by the next tool.
    for (std::string_view t : {"true", "True", "TRUE"})
        if (text == t) { out = 1; return true; }
    for (std::string_view f : {"false", "False", "FALSE"})
        if (text == f) { out = 0; return true; }
    error = "'" + std::string(text) + "' is not a boolean (use true or false)";
    return false;
}

bool parse_enumeration(const schema_entry& e, std::string_view text, std::string& error) {
    std::string_view allowed = e.allowed;
    while (!allowed.empty()) {
        std::size_t bar = allowed.find('|');
        if (allowed.substr(0, bar) == text) return true;
        allowed = bar == std::string_view::npos ? std::string_view{} : allowed.substr(bar + 1);
    }
    bool refused = !e.refused.empty() &&
                   std::equal(text.begin(), text.end(), e.refused.begin(), e.refused.end(),
                              [](char a, char b) { return std::tolower(a) == std::tolower(b); });
    error = refused ? std::string(e.refused_reason)
                    : "'" + std::string(text) + "' is not " + schema::type_text(e);
    return false;
}

}  // namespace

std::span<const schema_entry> schema::entries() { return table; }

const schema_entry* schema::find(std::string_view pattern) {
    for (const auto& e : table)
        if (e.path == pattern) return &e;
    return nullptr;
}

std::vector<const schema_entry*> schema::children(std::string_view parent) {
    std::vector<const schema_entry*> out;
    std::size_t skip = parent.empty() ? 0 : parent.size() + 1;
    for (const auto& e : table) {
        if (e.path.size() <= skip) continue;
        if (!parent.empty() && (!e.path.starts_with(parent) || e.path[parent.size()] != '.'))
            continue;
        std::string_view name = e.path.substr(skip);
        if (name.find_first_of(".[*") == std::string_view::npos) out.push_back(&e);
    }
    return out;
}

std::string schema::bounds_error(const schema_entry& e, std::uint64_t value) {
    if (value >= e.min && value <= e.max) return {};
    std::string suffix = e.kind == value_kind::auto_integer ? " (or auto)" : "";
    if (e.max == no_limit) return "must be at least " + bound_value(e, e.min) + suffix;
    if (e.min == 0) return "must be at most " + bound_value(e, e.max) + suffix;
    return "must be between " + bound_value(e, e.min) + " and " + bound_value(e, e.max) + suffix;
}

bool schema::parse_scalar(const schema_entry& e, std::string_view text, std::uint64_t& number,
                          std::string& error) {
    number = 0;
    bool ok = true;
    switch (e.kind) {
        case value_kind::integer: ok = parse_integer(text, number, error); break;
        case value_kind::auto_integer:
            if (text == "auto") return true;  // 0 = auto
            ok = parse_integer(text, number, error);
            break;
        case value_kind::boolean: return parse_boolean(text, number, error);
        case value_kind::duration: {
            config::duration d{};
            ok = parse_duration(text, d, error);
            number = static_cast<std::uint64_t>(d.count());
            break;
        }
        case value_kind::size: ok = parse_size(text, number, error); break;
        case value_kind::enumeration: return parse_enumeration(e, text, error);
        default: return true;  // strings; maps and lists are not scalars
    }
    if (!ok) return false;
    error = bounds_error(e, number);
    return error.empty();
}

std::string schema::type_text(const schema_entry& e) {
    std::string t;
    using enum value_kind;
    switch (e.kind) {
        case map: t = "map"; break;
        case dict: t = "map of name → backend"; break;
        case list: t = "list"; break;
        case string: t = e.format.empty() ? "string" : "string (" + std::string(e.format) + ")";
            break;
        case integer: t = "integer"; break;
        case boolean: t = "boolean"; break;
        case duration: t = "duration"; break;
        case size: t = "size"; break;
        case enumeration: t = "one of: " + list_allowed(e.allowed); break;
        case auto_integer: t = "`auto` or integer"; break;
    }
    if (!e.variant.empty()) t += "; type " + std::string(e.variant) + " only";
    return t;
}

std::string schema::bounds_text(const schema_entry& e) {
    if (e.min == 0 && e.max == no_limit) return {};
    if (e.max == no_limit) return "≥ " + bound_value(e, e.min);
    return bound_value(e, e.min) + ".." + bound_value(e, e.max);
}

std::string schema::doc_row(const schema_entry& e) {
    std::string def;
    if (e.required) def = "required";
    else if (e.default_text.empty()) def = "-";
    else if (e.default_text.front() == '(') def = std::string(e.default_text);
    else def = "`" + std::string(e.default_text) + "`";
    std::string bounds = bounds_text(e);
    return "| `" + std::string(e.path) + "` | " + type_text(e) + " | " + def + " | " +
           (bounds.empty() ? "-" : bounds) + " | " + std::string(e.doc) + " |";
}

}  // namespace wsgated::config
