// formats: the shapes of string values in the configuration file beyond durations and sizes —
// listen addresses, CIDRs, backend and hook URLs, the Redis URL, token sources, room templates.
//
// Used by the section builders (sections.h) when they turn checked text into gateway_config
// fields. Each parser returns false with a reason fit for "key.path: reason"; none throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"

namespace wsgated::config {

// "0.0.0.0:8080", "[::]:8443", "localhost:0". The host is an IPv4 literal, a bracketed IPv6
// literal or "localhost" (read as 127.0.0.1: a listener never waits on DNS); port 0..65535.
bool parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port,
                          std::string& error);

// "10.0.0.0/8", "::1/128", or a bare address (a full-length prefix). Host bits set below the
// prefix are an error: "10.0.0.1/8" almost always means a typo.
bool parse_cidr(std::string_view text, cidr& out, std::string& error);

// "http://host[:port][/path]" or "unix:/abs/socket.sock[:/path]" (backends and the auth hook).
bool parse_http_url(std::string_view text, http_endpoint& out, std::string& error);

// "host:port" of a server to connect to: a host name, an IPv4 address or a bracketed IPv6
// address, and a port from 1 (a stream backend's `address`). Names are resolved at connect.
bool parse_connect_address(std::string_view text, std::string& host, std::string& port,
                           std::string& error);

// "redis://host[:port][/db]".
bool parse_redis_url(std::string_view text, cluster_config& out, std::string& error);
// One URL, or several separated by commas (seed nodes of a Redis Cluster).
bool parse_redis_urls(std::string_view text, cluster_config& out, std::string& error);

// "query:NAME", "header:NAME" (stored lower-case) or "cookie:NAME".
bool parse_token_source(std::string_view text, token_source& out, std::string& error);

// An absolute path short enough for sockaddr_un (a Unix socket to connect to).
bool check_socket_path(std::string_view path, std::string& error);

// ASCII lower case: header names are compared that way.
std::string to_lower(std::string_view text);

// An RFC 9110 token: header names, subprotocols.
bool is_token(std::string_view text);

// A room template: literal text and {name} references, each naming a route parameter, `user`
// or `claims.NAME`.
bool check_room_template(std::string_view text, const std::vector<std::string>& params,
                         std::string& error);

}  // namespace wsgated::config
