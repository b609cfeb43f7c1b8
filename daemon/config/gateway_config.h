// gateway_config: the validated, immutable snapshot of one configuration file.
//
// Defaults are written once, in loader/schema.cpp's key table (the loader fills every key from
// it). So the fields here that a key sets start at zero or empty, never at a second copy of a
// default: a struct that did not come from the loader is visibly not a configuration (tests
// that need one load it: config::load_string("", …)).
//
// Built only by config::loader; everything else holds it as
// std::shared_ptr<const gateway_config> and never sees YAML. A reload (SIGHUP) builds a whole
// new snapshot and swaps the pointer, so a reader always sees one consistent configuration.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace wsgated::auth {
class jwt_verifier;  // auth/jwt_verifier.h; declared here so this header needs no OpenSSL
}

namespace wsgated::config {

using duration = std::chrono::milliseconds;

// Where a value came from, so that later checks (and runtime warnings) can name it.
struct source_mark {
    int line = 0;    // 1-based; 0 = default, not written in the file
    int column = 0;  // 1-based
};

struct tls_config {
    std::string cert_file;
    std::string key_file;
    std::string min_version;  // "1.2" | "1.3"
    // Built and checked by the loader (cert readable, key matches): a bad file is a config error,
    // never a runtime surprise. Shared by every listener that uses it.
    std::shared_ptr<boost::asio::ssl::context> context;
};

struct listen_config {
    std::string address;  // as written: "0.0.0.0:8080", "[::]:8443", "127.0.0.1:0", "unix:/run/x.sock"
    std::string unix_path;  // "unix:PATH" (admin.control_listen only): the socket's path; else empty
    std::string host;     // "0.0.0.0", "::" (brackets removed)
    std::uint16_t port = 0;
    bool proxy_protocol = false;
    std::optional<tls_config> tls;
    source_mark mark;
};

// One trusted_proxies entry, e.g. 10.0.0.0/8 or ::1/128 (a bare address = full prefix).
struct cidr {
    std::array<unsigned char, 16> bytes{};  // network address; IPv4 in the first 4 bytes
    bool v4 = true;
    int prefix_len = 32;
    std::string text;  // as written
};

struct limits_config {
    std::uint64_t max_connections{};
    std::uint64_t max_connections_per_ip{};
    duration handshake_timeout{};
    std::uint64_t max_message_size{};  // after decompression
    std::uint64_t send_queue{};        // bytes per connection
    std::uint32_t messages_per_second{};  // 0 = off; burst = 2x
};

struct heartbeat_config {
    duration interval{};  // 0 = off
    duration timeout{};
};

enum class log_format { json, text };

struct log_config {
    std::string level;  // trace | debug | info | warn | error | critical | off
    log_format format{};
};

struct server_config {
    unsigned workers = 0;  // resolved: `auto` becomes std::thread::hardware_concurrency() (>= 1)
    std::vector<listen_config> listen;  // default: one plain listener on 0.0.0.0:8080
    std::vector<cidr> trusted_proxies;
    limits_config limits;
    heartbeat_config heartbeat;
    duration drain_timeout{};
    std::string demo_page;  // a path served the built-in demo page (ws/demo_page); empty = off
    log_config log;
};

struct admin_config {
    listen_config listen;  // default 127.0.0.1:9090
    std::string token;     // empty = /v1 answers 403
    // Set: /v1 is served here (host:port or a Unix socket, mode 0660) and no longer on `listen`,
    // which keeps /metrics, /healthz and /readyz (SPEC §6).
    std::optional<listen_config> control_listen;
};

enum class backend_type { echo, http, stream };

// Where an HTTP client connects: "http://host[:port][/path]" or "unix:/abs/socket.sock[:/path]".
// Used by http backends and the http auth hook.
struct http_endpoint {
    bool unix_socket = false;
    std::string host;         // host name or address (brackets removed)
    std::string port;         // "80" when absent
    std::string socket_path;  // unix: the socket path
    std::string target;       // "/ws" (at least "/"), query included
};

struct backend_config {
    std::string name;
    backend_type type = backend_type::echo;
    // http: "http://host:port/path" or "unix:/path/to.sock:/path"
    std::string url;
    http_endpoint endpoint;
    duration timeout{};
    std::uint32_t max_connections{};
    // stream: a Unix socket `path` or a TCP `address` (exactly one)
    std::string path;               // Unix socket path
    std::string host, port;         // from `address`; the host is resolved at each connect
    std::uint64_t max_buffer{};     // bytes waiting for the backend, per worker's stream
    source_mark mark;
};

struct token_source {
    enum class kind { query, header, cookie };
    kind where = kind::header;
    std::string name;  // lower-cased for headers
};

struct auth_http_config {
    std::string url;
    http_endpoint endpoint;
    std::vector<std::string> forward_headers;  // lower-cased
    duration timeout{};    // 0 = the handshake_timeout
    duration cache_ttl{};  // 0 = no cache
    std::uint64_t cache_size{};  // entries
    bool cache_negative{};
};

struct auth_jwt_config {
    std::vector<std::string> algorithms;  // HS256 … ES512; never "none"
    std::string key_file;
    std::string jwks_file;
    std::vector<token_source> token_from;  // default: header:authorization, query:token
    std::string audience;
    std::string issuer;
    duration leeway{};
    // Built and checked by the loader from the fields above (keys parsed, every key usable by
    // some algorithm), so a bad PEM or JWKS is a config error, and a reload re-reads the keys.
    // Immutable and shared by every worker's handshakes.
    std::shared_ptr<const auth::jwt_verifier> verifier;
};

enum class auth_type { none, http, jwt };

struct auth_config {
    auth_type type = auth_type::none;
    auth_http_config http;
    auth_jwt_config jwt;
};

struct compression_config {
    bool enabled{};
    std::uint64_t threshold{};  // smaller messages go uncompressed
    int server_max_window_bits{};  // 9..15 (zlib cannot do 8 for raw deflate)
    int client_max_window_bits{};  // 9..15
    bool server_no_context_takeover{};
    bool client_no_context_takeover{};
    int level{};      // zlib 0..9
    int mem_level{};  // zlib 1..9
};

// Which events reach the backend: a bit set of event_bit values.
enum event_bit : unsigned { ev_connect = 1, ev_message = 2, ev_disconnect = 4 };

enum class rate_limit_action { close, drop };

struct route_config {
    std::string path;     // pattern: "/chat/{room}"
    std::string backend;  // a key of gateway_config::backends, or "echo"
    auth_config auth;
    std::vector<std::string> rooms;                 // templates: "room:{room}", "{claims.tenant}"
    std::optional<std::vector<std::string>> origins;  // absent = any origin
    std::vector<std::string> subprotocols;          // empty = none required
    compression_config compression;
    unsigned events{};
    rate_limit_action rate_limit{};
    source_mark mark;
};

struct redis_seed {
    std::string host;
    std::uint16_t port{};
    bool operator==(const redis_seed&) const = default;
};

struct cluster_config {
    std::string redis;  // empty = single node
    bool redis_tls = false;  // rediss://
    std::string redis_host;
    std::uint16_t redis_port{};  // the URL's, 6379 when it names none
    // Every URL of the list (the first is redis_host:redis_port): one Redis, or seed nodes of
    // a Redis Cluster, which wsgated asks for its shards.
    std::vector<redis_seed> redis_seeds;
    int redis_db{};
    std::string redis_user, redis_password;  // from the URL's user:password@ (AUTH)
    std::string tls_ca_file;  // rediss://: the CAs that sign Redis's certificate; empty = the system's
    std::string node_id;  // default: the host name
    std::chrono::milliseconds node_ttl{15000};
};

struct gateway_config {
    std::string source_file;  // path the snapshot was loaded from ("<string>" in tests)
    server_config server;
    admin_config admin;
    std::map<std::string, backend_config> backends;  // always holds "echo"
    std::vector<route_config> routes;
    cluster_config cluster;
};

using config_ptr = std::shared_ptr<const gateway_config>;

}  // namespace wsgated::config
