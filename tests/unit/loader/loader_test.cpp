// Tests for config/loader from inline YAML: every kind of bad configuration is reported at its
// exact file:line:column and key path, all errors of a file come at once and in file order, and
// good files get the documented defaults. (Cases that need real files: loader_files_test.cpp.)
#include "loader/loader.h"

#include <gtest/gtest.h>

#include <map>

namespace wsgated::config {
namespace {

using namespace std::chrono_literals;

env_lookup fake_env(std::map<std::string, std::string> vars = {}) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

// Every error of a load, one per line, as the operator sees them.
std::string errors_of(std::string_view yaml, const env_lookup& env = fake_env()) {
    load_result r = load_string(yaml, "t.yaml", env);
    std::string out;
    for (const auto& e : r.errors) out += e.to_string() + "\n";
    EXPECT_EQ(r.config == nullptr, !r.errors.empty());
    return out;
}

config_ptr loads(std::string_view yaml, const env_lookup& env = fake_env()) {
    load_result r = load_string(yaml, "t.yaml", env);
    for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
    return r.config;
}

// A valid route, put last so that the lines above keep their numbers.
constexpr std::string_view echo_route = "routes: [{path: /echo, backend: echo}]\n";

std::string with_route(std::string_view yaml) {
    return std::string(yaml) + std::string(echo_route);
}

// ---- unknown keys and kinds (the schema walk) ----

TEST(loader, unknown_top_level_key_is_reported_at_the_key) {
    EXPECT_EQ(errors_of(with_route("serverr:\n  workers: 2\n")),
              "t.yaml:1:1: serverr: unknown key (did you mean 'server'?)\n");
}

TEST(loader, unknown_nested_key_is_reported_at_the_key) {
    EXPECT_EQ(errors_of(with_route("server:\n  limits:\n    max_conections: 5\n")),
              "t.yaml:3:5: server.limits.max_conections: unknown key (did you mean "
              "'max_connections'?)\n");
}

TEST(loader, unknown_key_in_a_list_item_names_its_index) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n  - path: /b\n"
                        "    backend: echo\n    origin: [x]\n"),
              "t.yaml:6:5: routes[1].origin: unknown key (did you mean 'origins'?)\n");
}

TEST(loader, unknown_key_far_from_any_known_one_has_no_suggestion) {
    EXPECT_EQ(errors_of(with_route("cluster:\n  shards: 4\n")),
              "t.yaml:2:3: cluster.shards: unknown key\n");
}

TEST(loader, keys_are_not_env_expanded) {
    EXPECT_EQ(errors_of(with_route("server:\n  ${KEY}: 1\n"), fake_env({{"KEY", "workers"}})),
              "t.yaml:2:3: server.${KEY}: unknown key\n");
}

TEST(loader, duplicate_key_is_reported_at_the_second_one) {
    EXPECT_EQ(errors_of(with_route("server:\n  workers: 2\n  workers: 3\n")),
              "t.yaml:3:3: server.workers: duplicate key\n");
}

TEST(loader, map_where_a_scalar_is_expected) {
    EXPECT_EQ(errors_of(with_route("server:\n  workers: {n: 2}\n")),
              "t.yaml:2:12: server.workers: expected auto or an integer, found a map\n");
}

TEST(loader, scalar_where_a_map_is_expected) {
    EXPECT_EQ(errors_of(with_route("server: 5\n")),
              "t.yaml:1:9: server: expected a map, found '5'\n");
}

TEST(loader, scalar_where_a_list_is_expected) {
    EXPECT_EQ(errors_of(with_route("server:\n  trusted_proxies: 10.0.0.0/8\n")),
              "t.yaml:2:20: server.trusted_proxies: expected a list, found '10.0.0.0/8'\n");
}

TEST(loader, list_where_a_string_is_expected) {
    EXPECT_EQ(errors_of("routes:\n  - path: [/a, /b]\n    backend: echo\n"),
              "t.yaml:2:11: routes[0].path: expected a string, found a list\n");
}

TEST(loader, empty_value_is_reported_at_its_key) {
    EXPECT_EQ(errors_of(with_route("admin:\n  token:\n")),
              "t.yaml:2:3: admin.token: expected a string, found nothing\n");
}

// ---- bad scalar values ----

TEST(loader, duration_without_unit) {
    EXPECT_EQ(errors_of(with_route("server:\n  limits: {handshake_timeout: 5}\n")),
              "t.yaml:2:31: server.limits.handshake_timeout: duration '5' needs a unit: ms, s, m "
              "or h (e.g. 5s)\n");
}

TEST(loader, bad_size_unit) {
    EXPECT_EQ(errors_of(with_route("server:\n  limits:\n    max_message_size: 1XB\n")),
              "t.yaml:3:23: server.limits.max_message_size: unknown size unit 'XB' (use B, KB, MB, "
              "GB, KiB, MiB or GiB)\n");
}

TEST(loader, integer_that_is_not_a_number) {
    EXPECT_EQ(errors_of(with_route("server:\n  limits:\n    max_connections: many\n")),
              "t.yaml:3:22: server.limits.max_connections: 'many' is not an integer\n");
}

TEST(loader, negative_integer) {
    EXPECT_EQ(errors_of(with_route("server:\n  limits:\n    messages_per_second: -5\n")),
              "t.yaml:3:26: server.limits.messages_per_second: must not be negative\n");
}

TEST(loader, yaml_1_1_boolean_is_refused) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen:\n    - {address: \"0.0.0.0:1\", "
                                   "proxy_protocol: yes}\n")),
              "t.yaml:3:46: server.listen[0].proxy_protocol: 'yes' is not a boolean (use true or "
              "false)\n");
}

TEST(loader, bad_log_format) {
    EXPECT_EQ(errors_of(with_route("server:\n  log: {format: xml}\n")),
              "t.yaml:2:17: server.log.format: 'xml' is not one of: json, text\n");
}

TEST(loader, bad_log_level) {
    EXPECT_EQ(errors_of(with_route("server:\n  log:\n    level: loud\n")),
              "t.yaml:3:12: server.log.level: 'loud' is not one of: trace, debug, info, warn, "
              "error, critical, off\n");
}

TEST(loader, bad_rate_limit_action) {
    EXPECT_EQ(errors_of("routes:\n  - {path: /a, backend: echo, rate_limit: slow}\n"),
              "t.yaml:2:43: routes[0].rate_limit: 'slow' is not one of: close, drop\n");
}

TEST(loader, bad_event_name) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n    events: [connect, open]\n"),
              "t.yaml:4:23: routes[0].events[1]: 'open' is not one of: connect, message, "
              "disconnect\n");
}

// ---- bounds ----

TEST(loader, workers_zero_is_out_of_bounds) {
    EXPECT_EQ(errors_of(with_route("server:\n  workers: 0\n")),
              "t.yaml:2:12: server.workers: must be between 1 and 1024 (or auto)\n");
}

TEST(loader, workers_above_1024_is_out_of_bounds) {
    EXPECT_EQ(errors_of(with_route("server:\n  workers: 1025\n")),
              "t.yaml:2:12: server.workers: must be between 1 and 1024 (or auto)\n");
}

TEST(loader, max_connections_zero_is_out_of_bounds) {
    EXPECT_EQ(errors_of(with_route("server:\n  limits: {max_connections: 0}\n")),
              "t.yaml:2:29: server.limits.max_connections: must be at least 1\n");
}

TEST(loader, zero_handshake_timeout_is_out_of_bounds) {
    EXPECT_EQ(errors_of(with_route("server:\n  limits: {handshake_timeout: 0}\n")),
              "t.yaml:2:31: server.limits.handshake_timeout: must be at least 1ms\n");
}

TEST(loader, window_bits_below_9_are_out_of_bounds) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n"
                        "    compression: {server_max_window_bits: 8, "
                        "client_max_window_bits: 16}\n"),
              "t.yaml:4:43: routes[0].compression.server_max_window_bits: must be between 9 and "
              "15\n"
              "t.yaml:4:70: routes[0].compression.client_max_window_bits: must be between 9 and "
              "15\n");
}

TEST(loader, compression_level_and_mem_level_are_bounded) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n"
                        "    compression:\n      level: 10\n      mem_level: 0\n"),
              "t.yaml:5:14: routes[0].compression.level: must be at most 9\n"
              "t.yaml:6:18: routes[0].compression.mem_level: must be between 1 and 9\n");
}

// ---- server section ----

TEST(loader, listen_address_without_port) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen:\n    - address: 1.2.3.4\n")),
              "t.yaml:3:16: server.listen[0].address: expected host:port, e.g. 0.0.0.0:8080 or "
              "[::]:8443\n");
}

TEST(loader, listen_ipv6_without_brackets) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen:\n    - address: \"::1:8080\"\n")),
              "t.yaml:3:16: server.listen[0].address: an IPv6 address must be in brackets, e.g. "
              "[::1]:8080\n");
}

TEST(loader, listen_host_name_other_than_localhost) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen:\n    - address: example.com:80\n")),
              "t.yaml:3:16: server.listen[0].address: 'example.com' is not an IPv4 address, an "
              "[IPv6] address or localhost\n");
}

TEST(loader, listen_port_out_of_range) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen:\n    - address: \"[::1]:65536\"\n")),
              "t.yaml:3:16: server.listen[0].address: port '65536' is not a number from 0 to "
              "65535\n");
}

TEST(loader, duplicate_listen_address) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen:\n    - address: 127.0.0.1:8080\n"
                                   "    - address: 127.0.0.1:8080\n")),
              "t.yaml:4:16: server.listen[1].address: address 127.0.0.1:8080 is already used by "
              "another listener (line 3)\n");
}

TEST(loader, empty_listen_list) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen: []\n")),
              "t.yaml:2:11: server.listen: at least one listener is needed\n");
}

TEST(loader, admin_address_equal_to_a_public_listener) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen: [{address: \"127.0.0.1:7000\"}]\n"
                                   "admin:\n  listen: 127.0.0.1:7000\n")),
              "t.yaml:4:11: admin.listen: address 127.0.0.1:7000 is also a server listener (line "
              "2)\n");
}

TEST(loader, tls_min_version_other_than_1_2_or_1_3) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen:\n    - address: 127.0.0.1:0\n"
                                   "      tls: {cert: /c, key: /k, min_version: \"1.1\"}\n")),
              "t.yaml:4:45: server.listen[0].tls.min_version: '1.1' is not one of: 1.2, 1.3\n");
}

TEST(loader, tls_without_key) {
    EXPECT_EQ(errors_of(with_route("server:\n  listen:\n    - address: 127.0.0.1:0\n"
                                   "      tls:\n        cert: /c\n")),
              "t.yaml:4:7: server.listen[0].tls.key: required key is missing\n");
}

TEST(loader, bad_cidr_in_trusted_proxies) {
    EXPECT_EQ(errors_of(with_route("server:\n  trusted_proxies: [10.0.0.0/8, 10.0.0.0/33, "
                                   "bogus]\n")),
              "t.yaml:2:33: server.trusted_proxies[1]: prefix length must be a number from 0 to "
              "32\n"
              "t.yaml:2:46: server.trusted_proxies[2]: 'bogus' is not an IPv4 or IPv6 address\n");
}

TEST(loader, cidr_with_host_bits_set) {
    EXPECT_EQ(errors_of(with_route("server:\n  trusted_proxies:\n    - 10.0.0.1/8\n")),
              "t.yaml:3:7: server.trusted_proxies[0]: address has bits set beyond the /8 "
              "prefix\n");
}

TEST(loader, heartbeat_timeout_zero_while_interval_is_set) {
    EXPECT_EQ(errors_of(with_route("server:\n  heartbeat: {interval: 30s, timeout: 0}\n")),
              "t.yaml:2:39: server.heartbeat.timeout: must be greater than 0 while the heartbeat "
              "is on (interval 0 turns it off)\n");
}

TEST(loader, negative_drain_timeout) {
    EXPECT_EQ(errors_of(with_route("server:\n  drain_timeout: -1s\n")),
              "t.yaml:2:18: server.drain_timeout: duration must not be negative\n");
}

// ---- backends ----

TEST(loader, backend_may_not_be_called_echo) {
    EXPECT_EQ(errors_of(with_route("backends:\n  echo: {type: stream, path: /e.sock}\n")),
              "t.yaml:2:3: backends.echo: `echo` is the built-in backend; choose another name\n");
}

TEST(loader, backend_without_type) {
    EXPECT_EQ(errors_of(with_route("backends:\n  app:\n    url: http://x/\n")),
              "t.yaml:2:3: backends.app.type: required key is missing\n");
}

TEST(loader, unknown_backend_type) {
    EXPECT_EQ(errors_of(with_route("backends:\n  app: {type: grpc}\n")),
              "t.yaml:2:15: backends.app.type: 'grpc' is not one of: http, stream\n");
}

TEST(loader, http_backend_needs_url) {
    EXPECT_EQ(errors_of(with_route("backends:\n  app: {type: http, timeout: 2s}\n")),
              "t.yaml:2:3: backends.app.url: required for type http\n");
}

TEST(loader, https_backend_is_not_supported_yet) {
    EXPECT_EQ(errors_of(with_route("backends:\n  app: {type: http, url: \"https://x/ws\"}\n")),
              "t.yaml:2:26: backends.app.url: https is not supported yet; use http:// or unix:\n");
}

TEST(loader, backend_url_with_other_scheme) {
    EXPECT_EQ(errors_of(with_route("backends:\n  app:\n    type: http\n    url: ftp://x/\n")),
              "t.yaml:4:10: backends.app.url: must start with http:// or unix:\n");
}

TEST(loader, unix_backend_url_needs_an_absolute_socket_path) {
    EXPECT_EQ(errors_of(with_route("backends:\n  app: {type: http, url: \"unix:run.sock:/ws\"}\n")),
              "t.yaml:2:26: backends.app.url: socket path must be absolute\n");
}

TEST(loader, stream_backend_needs_path_or_address) {
    EXPECT_EQ(errors_of(with_route("backends:\n  chat:\n    type: stream\n")),
              "t.yaml:2:3: backends.chat: a stream backend needs `path` (a Unix socket) or `address` (host:port)\n");
}

TEST(loader, stream_backend_with_path_and_address) {
    EXPECT_EQ(errors_of(with_route("backends:\n  chat: {type: stream, path: /c.sock, address: \"h:1\"}\n")),
              "t.yaml:2:48: backends.chat.address: give `path` or `address`, not both\n");
}

TEST(loader, stream_backend_over_tcp) {
    auto r = load_string(with_route("backends:\n  chat: {type: stream, address: \"[::1]:7000\", max_buffer: 1MiB, "
                                    "timeout: 2s}\n"), "t.yaml");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
    const auto& b = r.config->backends.at("chat");
    EXPECT_EQ(b.host, "::1");
    EXPECT_EQ(b.port, "7000");
    EXPECT_TRUE(b.path.empty());
    EXPECT_EQ(b.max_buffer, 1024u * 1024);
    EXPECT_EQ(b.timeout, std::chrono::seconds(2));
}

TEST(loader, stream_backend_defaults) {
    auto r = load_string(with_route("backends:\n  chat: {type: stream, path: /c.sock}\n"), "t.yaml");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
    const auto& b = r.config->backends.at("chat");
    EXPECT_EQ(b.max_buffer, 4u * 1024 * 1024);
    EXPECT_EQ(b.timeout, std::chrono::seconds(5));
}

TEST(loader, stream_backend_bad_address) {
    EXPECT_EQ(errors_of(with_route("backends:\n  chat: {type: stream, address: \"nohost\"}\n")),
              "t.yaml:2:33: backends.chat.address: expected host:port, e.g. 0.0.0.0:8080 or [::]:8443\n");
    EXPECT_EQ(errors_of(with_route("backends:\n  chat: {type: stream, address: \"h:0\"}\n")),
              "t.yaml:2:33: backends.chat.address: port '0' is not a number from 1 to 65535\n");
}

TEST(loader, stream_backend_max_buffer_bounds) {
    EXPECT_EQ(errors_of(with_route("backends:\n  chat: {type: stream, path: /c.sock, max_buffer: 1KiB}\n")),
              "t.yaml:2:51: backends.chat.max_buffer: must be between 64KiB and 1GiB\n");
}

TEST(loader, http_key_on_a_stream_backend) {
    EXPECT_EQ(errors_of(with_route("backends:\n  chat:\n    type: stream\n    path: /c.sock\n"
                                   "    url: http://x/\n")),
              "t.yaml:5:5: backends.chat.url: not valid for type stream\n");
}

TEST(loader, stream_backend_with_relative_path) {
    EXPECT_EQ(errors_of(with_route("backends:\n  chat: {type: stream, path: run/c.sock}\n")),
              "t.yaml:2:30: backends.chat.path: socket path must be absolute\n");
}

TEST(loader, backend_name_with_a_dot) {
    EXPECT_EQ(errors_of(with_route("backends:\n  a.b: {type: stream, path: /c.sock}\n")),
              "t.yaml:2:3: backends.a.b: a backend name may hold only letters, digits, '_' and "
              "'-'\n");
}

// ---- routes ----

TEST(loader, routes_missing) {
    EXPECT_EQ(errors_of("server:\n  workers: 1\n"),
              "t.yaml:1:1: routes: required key is missing\n");
}

TEST(loader, routes_empty) {
    EXPECT_EQ(errors_of("server:\n  workers: 1\nroutes: []\n"),
              "t.yaml:3:9: routes: at least one route is needed\n");
}

TEST(loader, route_without_path) {
    EXPECT_EQ(errors_of("routes:\n  - backend: echo\n"),
              "t.yaml:2:5: routes[0].path: required key is missing\n");
}

TEST(loader, route_path_that_path_pattern_refuses) {
    EXPECT_EQ(errors_of("routes:\n  - path: chat/{room}\n    backend: echo\n"
                        "  - path: \"/chat/{}\"\n    backend: echo\n"),
              "t.yaml:2:11: routes[0].path: must start with '/'\n"
              "t.yaml:4:11: routes[1].path: bad parameter name '' (letters, digits, _)\n");
}

TEST(loader, duplicate_route_path) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n"
                        "  - path: /a\n    backend: echo\n"),
              "t.yaml:4:11: routes[1].path: duplicate route path: routes[0] has it too\n");
}

TEST(loader, demo_page_must_be_a_path) {
    EXPECT_EQ(errors_of("server:\n  demo_page: demo\nroutes:\n  - {path: /a, backend: echo}\n"),
              "t.yaml:2:14: server.demo_page: must be a path: start with '/', no '?' or '#'\n");
    EXPECT_EQ(errors_of("server:\n  demo_page: \"/?x\"\nroutes:\n  - {path: /a, backend: echo}\n"),
              "t.yaml:2:14: server.demo_page: must be a path: start with '/', no '?' or '#'\n");
    EXPECT_EQ(errors_of("server:\n  demo_page: /\nroutes:\n  - {path: /a, backend: echo}\n"), "");
}

// Found from outside (issue 20): the duplicate hid the route's other errors.
TEST(loader, a_duplicate_route_path_does_not_hide_the_routes_other_errors) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n"
                        "  - path: /a\n    backend: nope\n    origins: 5\n"),
              "t.yaml:4:11: routes[1].path: duplicate route path: routes[0] has it too\n"
              "t.yaml:5:14: routes[1].backend: backend 'nope' is not defined in `backends` (nor built in: echo)\n"
              "t.yaml:6:14: routes[1].origins: expected a list, found '5'\n");
}

TEST(loader, route_paths_differing_only_in_parameter_names_are_duplicates) {
    EXPECT_EQ(errors_of("routes:\n  - {path: \"/c/{a}\", backend: echo}\n"
                        "  - {path: \"/c/{b}\", backend: echo}\n"),
              "t.yaml:3:12: routes[1].path: duplicate route path: routes[0] has it too\n");
}

TEST(loader, route_naming_an_undefined_backend) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: app\n"),
              "t.yaml:3:14: routes[0].backend: backend 'app' is not defined in `backends` (nor "
              "built in: echo)\n");
}

TEST(loader, room_template_with_unknown_parameter) {
    EXPECT_EQ(errors_of("routes:\n  - path: /chat/{room}\n    backend: echo\n"
                        "    rooms: [\"room:{room}\", \"{user}\", \"{claims.team}\", \"{rom}\"]\n"),
              "t.yaml:4:55: routes[0].rooms[3]: unknown reference {rom}: use a route parameter, "
              "{user} or {claims.NAME}\n");
}

TEST(loader, room_template_with_unterminated_brace) {
    EXPECT_EQ(errors_of("routes:\n  - path: /chat\n    backend: echo\n"
                        "    rooms:\n      - \"a{\"\n"),
              "t.yaml:5:9: routes[0].rooms[0]: unterminated '{'\n");
}

TEST(loader, subprotocol_that_is_not_a_token) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n"
                        "    subprotocols: [\"chat v1\"]\n"),
              "t.yaml:4:20: routes[0].subprotocols[0]: 'chat v1' is not a valid token\n");
}

// ---- auth ----

TEST(loader, auth_without_type) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n    auth: {url: http://x/}\n"),
              "t.yaml:4:5: routes[0].auth.type: required key is missing\n");
}

TEST(loader, http_auth_needs_url) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n    auth:\n      type: http\n"),
              "t.yaml:4:5: routes[0].auth.url: required for type http\n");
}

TEST(loader, jwt_key_on_http_auth) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n"
                        "    auth: {type: http, url: \"http://h/auth\", audience: feed}\n"),
              "t.yaml:4:46: routes[0].auth.audience: not valid for type http\n");
}

TEST(loader, jwt_needs_algorithms) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n"
                        "    auth: {type: jwt, key_file: /nonexistent}\n"),
              "t.yaml:4:5: routes[0].auth.algorithms: required for type jwt\n"
              "t.yaml:4:33: routes[0].auth.key_file: cannot read /nonexistent: No such file or "
              "directory\n");
}

TEST(loader, jwt_needs_a_key_file_or_a_jwks_file) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n"
                        "    auth: {type: jwt, algorithms: [RS256]}\n"),
              "t.yaml:4:5: routes[0].auth.key_file: required for type jwt (or jwks_file)\n");
}

TEST(loader, jwt_algorithm_none_is_refused_with_its_reason) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n    auth:\n      type: jwt\n"
                        "      algorithms: [HS256, none]\n      key_file: /dev/null\n"),
              "t.yaml:6:27: routes[0].auth.algorithms[1]: 'none' is never accepted: an unsigned "
              "token proves nothing\n"
              "t.yaml:7:17: routes[0].auth.key_file: /dev/null is empty\n");
}

TEST(loader, jwt_algorithm_names_are_case_sensitive) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n    auth:\n      type: jwt\n"
                        "      algorithms: [hs256]\n"
                        "      jwks_file: /nonexistent.json\n"),
              "t.yaml:6:20: routes[0].auth.algorithms[0]: 'hs256' is not one of: HS256, HS384, "
              "HS512, RS256, RS384, RS512, ES256, ES384, ES512\n"
              "t.yaml:7:18: routes[0].auth.jwks_file: cannot read /nonexistent.json: No such file "
              "or directory\n");
}

TEST(loader, jwt_token_source_of_unknown_kind) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n    backend: echo\n    auth:\n      type: jwt\n"
                        "      algorithms: [RS256]\n      jwks_file: /nonexistent.json\n"
                        "      token_from: [\"query:token\", \"body:token\", \"header:\"]\n"),
              "t.yaml:7:18: routes[0].auth.jwks_file: cannot read /nonexistent.json: No such file "
              "or directory\n"
              "t.yaml:8:35: routes[0].auth.token_from[1]: expected query:NAME, header:NAME or "
              "cookie:NAME\n"
              "t.yaml:8:49: routes[0].auth.token_from[2]: '' is not a valid header name\n");
}

// ---- cluster ----

TEST(loader, redis_url_with_other_scheme) {
    EXPECT_EQ(errors_of(with_route("cluster:\n  redis: http://127.0.0.1:6379\n")),
              "t.yaml:2:10: cluster.redis: must look like redis://[user:password@]host[:port][/db] (rediss:// for TLS)\n");
}

TEST(loader, redis_url_with_bad_database) {
    EXPECT_EQ(errors_of(with_route("cluster:\n  redis: redis://127.0.0.1:6379/zero\n")),
              "t.yaml:2:10: cluster.redis: database must be a number, e.g. "
              "redis://127.0.0.1:6379/0\n");
}

// ---- the file as a whole ----

TEST(loader, empty_file) {
    EXPECT_EQ(errors_of(""), "t.yaml: the file is empty; at least `routes` is needed\n");
    EXPECT_EQ(errors_of("# only a comment\n"),
              "t.yaml: the file is empty; at least `routes` is needed\n");
}

TEST(loader, top_level_that_is_not_a_map) {
    EXPECT_EQ(errors_of("- path: /a\n"),
              "t.yaml:1:1: the top level must be a map of sections: server, admin, backends, "
              "routes, cluster\n");
}

TEST(loader, yaml_syntax_error_names_its_place) {
    EXPECT_EQ(errors_of("routes:\n  - path: /a\n     backend: echo\n"),
              "t.yaml:3:13: YAML syntax: illegal map value\n");
}

TEST(loader, second_yaml_document) {
    EXPECT_EQ(errors_of(std::string(echo_route) + "---\nserver: {}\n"),
              "t.yaml:3:1: only one YAML document is allowed (remove this '---' part)\n");
}

TEST(loader, bad_env_reference) {
    EXPECT_EQ(errors_of(with_route("admin:\n  token: ${1TOKEN}\n")),
              "t.yaml:2:10: admin.token: bad variable name in '${1TOKEN}' (letters, digits and "
              "'_', not starting with a digit)\n");
}

TEST(loader, unterminated_env_reference) {
    EXPECT_EQ(errors_of(with_route("admin:\n  token: \"${TOKEN\"\n")),
              "t.yaml:2:10: admin.token: unterminated '${' in '${TOKEN'\n");
}

TEST(loader, env_value_is_typed_and_reported_at_the_reference) {
    EXPECT_EQ(errors_of(with_route("server:\n  limits:\n    send_queue: ${QUEUE}\n"),
                        fake_env({{"QUEUE", "lots"}})),
              "t.yaml:3:17: server.limits.send_queue: 'lots' is not a size\n");
}

TEST(loader, several_errors_are_reported_at_once_in_file_order) {
    EXPECT_EQ(errors_of("routes:\n"
                        "  - path: /a\n"
                        "    backend: nope\n"
                        "server:\n"
                        "  workers: none\n"
                        "  bogus: 1\n"
                        "backends:\n"
                        "  chat: {type: stream}\n"),
              "t.yaml:3:14: routes[0].backend: backend 'nope' is not defined in `backends` (nor "
              "built in: echo)\n"
              "t.yaml:5:12: server.workers: 'none' is not an integer\n"
              "t.yaml:6:3: server.bogus: unknown key\n"
              "t.yaml:8:3: backends.chat: a stream backend needs `path` (a Unix socket) or `address` (host:port)\n");
}

TEST(loader, error_to_string_without_a_place) {
    config_error whole{"gw.yaml", 0, 0, "", "the file is empty"};
    EXPECT_EQ(whole.to_string(), "gw.yaml: the file is empty");
    config_error keyed{"gw.yaml", 0, 0, "routes", "required key is missing"};
    EXPECT_EQ(keyed.to_string(), "gw.yaml: routes: required key is missing");
    config_error placed{"gw.yaml", 3, 7, "", "YAML syntax: x"};
    EXPECT_EQ(placed.to_string(), "gw.yaml:3:7: YAML syntax: x");
}

// ---- good files ----

TEST(loader, a_single_route_is_a_valid_config_with_every_default) {
    config_ptr c = loads(echo_route);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->source_file, "t.yaml");
    EXPECT_GE(c->server.workers, 1u);
    ASSERT_EQ(c->server.listen.size(), 1u);
    EXPECT_EQ(c->server.listen[0].address, "0.0.0.0:8080");
    EXPECT_EQ(c->server.listen[0].host, "0.0.0.0");
    EXPECT_EQ(c->server.listen[0].port, 8080);
    EXPECT_EQ(c->server.listen[0].mark.line, 0);  // a default
    EXPECT_FALSE(c->server.listen[0].tls);
    EXPECT_TRUE(c->server.trusted_proxies.empty());
    EXPECT_EQ(c->server.limits.max_connections, 100000u);
    EXPECT_EQ(c->server.limits.max_connections_per_ip, 1000u);
    EXPECT_EQ(c->server.limits.handshake_timeout, 5s);
    EXPECT_EQ(c->server.limits.max_message_size, 1024u * 1024);
    EXPECT_EQ(c->server.limits.send_queue, 4u * 1024 * 1024);
    EXPECT_EQ(c->server.limits.messages_per_second, 0u);
    EXPECT_EQ(c->server.heartbeat.interval, 30s);
    EXPECT_EQ(c->server.heartbeat.timeout, 10s);
    EXPECT_EQ(c->server.drain_timeout, 30s);
    EXPECT_EQ(c->server.log.level, "info");
    EXPECT_EQ(c->server.log.format, log_format::json);
    EXPECT_EQ(c->admin.listen.address, "127.0.0.1:9090");
    EXPECT_EQ(c->admin.listen.port, 9090);
    EXPECT_EQ(c->admin.token, "");
    ASSERT_EQ(c->backends.size(), 1u);
    EXPECT_EQ(c->backends.at("echo").type, backend_type::echo);
    EXPECT_EQ(c->cluster.redis, "");
    EXPECT_FALSE(c->cluster.node_id.empty());  // the host name
}

TEST(loader, route_defaults) {
    config_ptr c = loads(echo_route);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->routes.size(), 1u);
    const route_config& r = c->routes[0];
    EXPECT_EQ(r.path, "/echo");
    EXPECT_EQ(r.backend, "echo");
    EXPECT_EQ(r.mark.line, 1);
    EXPECT_EQ(r.auth.type, auth_type::none);
    EXPECT_TRUE(r.rooms.empty());
    EXPECT_FALSE(r.origins);
    EXPECT_TRUE(r.subprotocols.empty());
    EXPECT_FALSE(r.compression.enabled);
    EXPECT_EQ(r.compression.threshold, 1024u);
    EXPECT_EQ(r.compression.server_max_window_bits, 15);
    EXPECT_EQ(r.compression.client_max_window_bits, 15);
    EXPECT_EQ(r.compression.level, 6);
    EXPECT_EQ(r.compression.mem_level, 8);
    EXPECT_EQ(r.events, ev_connect | ev_message | ev_disconnect);
    EXPECT_EQ(r.rate_limit, rate_limit_action::close);
}

TEST(loader, values_as_written) {
    config_ptr c = loads("server:\n  workers: 3\n  listen:\n    - address: \"[::]:0\"\n"
                         "      proxy_protocol: true\n    - address: localhost:0\n"
                         "    - address: localhost:0\n  trusted_proxies: [10.0.0.0/8, \"::1\"]\n"
                         "  heartbeat: {interval: 0, timeout: 0}\n"
                         "  log: {level: debug, format: text}\n"
                         "backends:\n"
                         "  app: {type: http, url: \"http://[::1]/ws?v=1\", timeout: 250ms}\n"
                         "  local: {type: http, url: \"unix:/run/app.sock:/ws\", "
                         "max_connections: 8}\n"
                         "  chat: {type: stream, path: /run/chat.sock}\n"
                         "routes:\n  - path: /chat/{room}\n    backend: chat\n"
                         "    events: [message]\n    rate_limit: drop\n    origins: []\n"
                         "cluster: {redis: \"redis://cache:6380/2\", node_id: n1}\n");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->server.workers, 3u);
    ASSERT_EQ(c->server.listen.size(), 3u);  // port 0 twice is no conflict
    EXPECT_EQ(c->server.listen[0].host, "::");
    EXPECT_TRUE(c->server.listen[0].proxy_protocol);
    EXPECT_EQ(c->server.listen[1].host, "127.0.0.1");
    EXPECT_EQ(c->server.listen[1].mark.line, 6);
    EXPECT_EQ(c->server.listen[1].mark.column, 16);
    ASSERT_EQ(c->server.trusted_proxies.size(), 2u);
    EXPECT_EQ(c->server.trusted_proxies[0].prefix_len, 8);
    EXPECT_TRUE(c->server.trusted_proxies[0].v4);
    EXPECT_EQ(c->server.trusted_proxies[0].bytes[0], 10);
    EXPECT_FALSE(c->server.trusted_proxies[1].v4);
    EXPECT_EQ(c->server.trusted_proxies[1].prefix_len, 128);
    EXPECT_EQ(c->server.heartbeat.interval, 0s);
    EXPECT_EQ(c->server.log.format, log_format::text);
    const backend_config& app = c->backends.at("app");
    EXPECT_EQ(app.type, backend_type::http);
    EXPECT_EQ(app.endpoint.host, "::1");
    EXPECT_EQ(app.endpoint.port, "80");
    EXPECT_EQ(app.endpoint.target, "/ws?v=1");
    EXPECT_EQ(app.timeout, 250ms);
    const backend_config& local = c->backends.at("local");
    EXPECT_TRUE(local.endpoint.unix_socket);
    EXPECT_EQ(local.endpoint.socket_path, "/run/app.sock");
    EXPECT_EQ(local.endpoint.target, "/ws");
    EXPECT_EQ(local.max_connections, 8u);
    EXPECT_EQ(c->backends.at("chat").path, "/run/chat.sock");
    EXPECT_EQ(c->routes[0].events, unsigned{ev_message});
    EXPECT_EQ(c->routes[0].rate_limit, rate_limit_action::drop);
    ASSERT_TRUE(c->routes[0].origins);  // present but empty: no origin is allowed
    EXPECT_TRUE(c->routes[0].origins->empty());
    EXPECT_EQ(c->cluster.redis_host, "cache");
    EXPECT_EQ(c->cluster.redis_port, 6380);
    EXPECT_EQ(c->cluster.redis_db, 2);
    EXPECT_EQ(c->cluster.node_id, "n1");
}

TEST(loader, env_expansion_applies_to_every_scalar_value) {
    config_ptr c = loads("server:\n  workers: ${WORKERS}\n  listen:\n"
                         "    - address: ${HOST:-127.0.0.1}:${PORT}\n"
                         "admin:\n  token: ${WSGATED_ADMIN_TOKEN}\n"
                         "routes:\n  - path: ${PREFIX}/echo\n    backend: echo\n"
                         "cluster:\n  node_id: ${HOSTNAME}\n",
                         fake_env({{"WORKERS", "2"}, {"PORT", "8081"}, {"PREFIX", "/v1"}}));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->server.workers, 2u);
    EXPECT_EQ(c->server.listen[0].address, "127.0.0.1:8081");
    EXPECT_EQ(c->admin.token, "");  // unset: empty, so /v1 stays closed
    EXPECT_EQ(c->routes[0].path, "/v1/echo");
    EXPECT_FALSE(c->cluster.node_id.empty());  // ${HOSTNAME} unset: the host name
}

TEST(loader, dollar_dollar_keeps_a_literal_dollar) {
    config_ptr c = loads(with_route("admin:\n  token: \"pa$$word${NOPE}\"\n"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->admin.token, "pa$word");
}

TEST(loader, empty_redis_url_means_a_single_node) {
    config_ptr c = loads(with_route("cluster:\n  redis: ${REDIS_URL}\n"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->cluster.redis, "");
}

TEST(loader, empty_sections_take_their_defaults) {
    config_ptr c = loads(with_route("server:\nadmin: {}\nbackends:\ncluster:\n"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->server.listen.size(), 1u);
    EXPECT_EQ(c->admin.listen.port, 9090);
}

TEST(loader, no_exception_escapes_on_odd_input) {
    for (std::string_view yaml : {"\t- x", "{", "[", ": :", "? [a]\n: b\n", "&a [*a]", "!!binary x",
                                  "routes: &r [*r]", "routes:\n  - {[a]: b}\n", "\xff\xfe"}) {
        load_result r = load_string(yaml, "t.yaml", fake_env());
        EXPECT_FALSE(r.errors.empty()) << yaml;
        EXPECT_FALSE(r.config) << yaml;
    }
}


// yaml-cpp 0.7's LoadAll loops forever on a ',' at the document level (found by
// tests/fuzz/config_loader): the loader must answer with a syntax error instead.
TEST(loader, stray_comma_at_top_level_is_a_syntax_error_not_a_hang) {
    for (const char* text : {",", " , x\n", "# c\n , answered\nroutes: []\n"}) {
        auto r = wsgated::config::load_string(text, "t.yaml", [](const std::string&) {
            return std::optional<std::string>{};
        });
        ASSERT_EQ(r.errors.size(), 1u) << text;
        EXPECT_NE(r.errors[0].reason.find("YAML syntax"), std::string::npos) << r.errors[0].to_string();
        EXPECT_FALSE(r.config);
    }
}

TEST(loader, admin_control_listen_unix_or_tcp) {
    auto c = loads(with_route("admin:\n  listen: 127.0.0.1:9090\n  control_listen: unix:/run/wsgated/c.sock\n"));
    ASSERT_TRUE(c && c->admin.control_listen);
    EXPECT_EQ(c->admin.control_listen->unix_path, "/run/wsgated/c.sock");
    c = loads(with_route("admin:\n  control_listen: 127.0.0.1:9191\n"));
    ASSERT_TRUE(c && c->admin.control_listen);
    EXPECT_EQ(c->admin.control_listen->port, 9191);
    EXPECT_TRUE(c->admin.control_listen->unix_path.empty());
    c = loads(with_route("admin:\n  control_listen: \"\"\n"));
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->admin.control_listen) << "empty (an unset ${VAR}) = none";
}

TEST(loader, admin_control_listen_refused_values) {
    EXPECT_EQ(errors_of(with_route("admin:\n  control_listen: unix:run/c.sock\n")),
              "t.yaml:2:19: admin.control_listen: socket path must be absolute\n");
    EXPECT_EQ(errors_of(with_route("admin:\n  listen: 127.0.0.1:9000\n  control_listen: 127.0.0.1:9000\n")),
              "t.yaml:3:19: admin.control_listen: address 127.0.0.1:9000 is admin.listen's; leave "
              "control_listen out to serve /v1 there\n");
    EXPECT_EQ(errors_of(with_route("server:\n  listen: [{address: \"127.0.0.1:7000\"}]\n"
                                   "admin:\n  control_listen: 127.0.0.1:7000\n")),
              "t.yaml:4:19: admin.control_listen: address 127.0.0.1:7000 is also a server listener (line 2)\n");
}

}  // namespace
}  // namespace wsgated::config
