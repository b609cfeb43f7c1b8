// Tests for config/formats: addresses, CIDRs, URLs, token sources and room templates.
#include "loader/formats.h"

#include <gtest/gtest.h>

namespace wsgated::config {
namespace {

TEST(formats, listen_address_forms) {
    std::string host, error;
    std::uint16_t port = 1;
    ASSERT_TRUE(parse_listen_address("0.0.0.0:8080", host, port, error)) << error;
    EXPECT_EQ(host, "0.0.0.0");
    EXPECT_EQ(port, 8080);
    ASSERT_TRUE(parse_listen_address("[::]:0", host, port, error)) << error;
    EXPECT_EQ(host, "::");
    EXPECT_EQ(port, 0);
    ASSERT_TRUE(parse_listen_address("localhost:9", host, port, error)) << error;
    EXPECT_EQ(host, "127.0.0.1");  // no DNS for a listener
}

TEST(formats, listen_address_errors) {
    std::string host, error;
    std::uint16_t port = 0;
    EXPECT_FALSE(parse_listen_address("[::1:80", host, port, error));
    EXPECT_EQ(error, "missing ']' after the IPv6 address");
    EXPECT_FALSE(parse_listen_address("[::1]80", host, port, error));
    EXPECT_EQ(error, "expected host:port, e.g. 0.0.0.0:8080 or [::]:8443");
    EXPECT_FALSE(parse_listen_address("[10.0.0.1]:80", host, port, error));
    EXPECT_EQ(error, "'10.0.0.1' is not an IPv4 address, an [IPv6] address or localhost");
    EXPECT_FALSE(parse_listen_address("1.2.3.4:", host, port, error));
    EXPECT_EQ(error, "port '' is not a number from 0 to 65535");
    EXPECT_FALSE(parse_listen_address("1.2.3.4:+80", host, port, error));
    EXPECT_EQ(error, "port '+80' is not a number from 0 to 65535");
}

TEST(formats, cidr_forms) {
    cidr c;
    std::string error;
    ASSERT_TRUE(parse_cidr("192.168.0.0/16", c, error)) << error;
    EXPECT_TRUE(c.v4);
    EXPECT_EQ(c.prefix_len, 16);
    EXPECT_EQ(c.bytes[0], 192);
    EXPECT_EQ(c.bytes[1], 168);
    ASSERT_TRUE(parse_cidr("192.0.2.7", c, error)) << error;
    EXPECT_EQ(c.prefix_len, 32);
    ASSERT_TRUE(parse_cidr("fd00::/8", c, error)) << error;
    EXPECT_FALSE(c.v4);
    EXPECT_EQ(c.prefix_len, 8);
    EXPECT_EQ(c.text, "fd00::/8");
    ASSERT_TRUE(parse_cidr("0.0.0.0/0", c, error)) << error;
}

TEST(formats, cidr_errors) {
    cidr c;
    std::string error;
    EXPECT_FALSE(parse_cidr("fd00::1/8", c, error));
    EXPECT_EQ(error, "address has bits set beyond the /8 prefix");
    EXPECT_FALSE(parse_cidr("::/129", c, error));
    EXPECT_EQ(error, "prefix length must be a number from 0 to 128");
    EXPECT_FALSE(parse_cidr("10.0.0.0/", c, error));
    EXPECT_EQ(error, "prefix length must be a number from 0 to 32");
    EXPECT_FALSE(parse_cidr("10.0.0/8", c, error));
    EXPECT_EQ(error, "'10.0.0' is not an IPv4 or IPv6 address");
}

TEST(formats, http_url_forms) {
    http_endpoint u;
    std::string error;
    ASSERT_TRUE(parse_http_url("http://app.internal", u, error)) << error;
    EXPECT_FALSE(u.unix_socket);
    EXPECT_EQ(u.host, "app.internal");
    EXPECT_EQ(u.port, "80");
    EXPECT_EQ(u.target, "/");
    ASSERT_TRUE(parse_http_url("http://[fe80::1]:8000/ws/a?x=1", u, error)) << error;
    EXPECT_EQ(u.host, "fe80::1");
    EXPECT_EQ(u.port, "8000");
    EXPECT_EQ(u.target, "/ws/a?x=1");
    ASSERT_TRUE(parse_http_url("unix:/run/app.sock", u, error)) << error;
    EXPECT_TRUE(u.unix_socket);
    EXPECT_EQ(u.socket_path, "/run/app.sock");
    EXPECT_EQ(u.target, "/");
}

TEST(formats, http_url_errors) {
    http_endpoint u;
    std::string error;
    EXPECT_FALSE(parse_http_url("http://user:pw@h/", u, error));
    EXPECT_EQ(error, "credentials in the URL are not supported");
    EXPECT_FALSE(parse_http_url("http://h:0/", u, error));
    EXPECT_EQ(error, "port '0' is not a number from 1 to 65535");
    EXPECT_FALSE(parse_http_url("http:///ws", u, error));
    EXPECT_EQ(error, "'' is not a host name or address");
    EXPECT_FALSE(parse_http_url("http://h/a#b", u, error));
    EXPECT_EQ(error, "the path must not contain '#' or spaces");
    EXPECT_FALSE(parse_http_url("unix:/" + std::string(200, 'x') + ".sock:/ws", u, error));
    EXPECT_EQ(error, "socket path is longer than 107 bytes");
}

TEST(formats, redis_url_defaults_port_and_database) {
    cluster_config c;
    std::string error;
    ASSERT_TRUE(parse_redis_url("redis://cache", c, error)) << error;
    EXPECT_EQ(c.redis, "redis://cache");
    EXPECT_EQ(c.redis_host, "cache");
    EXPECT_EQ(c.redis_port, 6379);
    EXPECT_EQ(c.redis_db, 0);
    EXPECT_FALSE(c.redis_tls);
    EXPECT_TRUE(c.redis_user.empty() && c.redis_password.empty());
}

TEST(formats, redis_url_takes_tls_credentials_and_database) {
    cluster_config c;
    std::string error;
    ASSERT_TRUE(parse_redis_url("rediss://gw:p%40ss%3Aw0rd@redis.internal:6380/3", c, error)) << error;
    EXPECT_TRUE(c.redis_tls);
    EXPECT_EQ(c.redis_host, "redis.internal");
    EXPECT_EQ(c.redis_port, 6380);
    EXPECT_EQ(c.redis_db, 3);
    EXPECT_EQ(c.redis_user, "gw");
    EXPECT_EQ(c.redis_password, "p@ss:w0rd");
    ASSERT_TRUE(parse_redis_url("redis://:secret@[::1]", c, error)) << error;
    EXPECT_EQ(c.redis_user, "");
    EXPECT_EQ(c.redis_password, "secret");
    EXPECT_EQ(c.redis_host, "::1");
}

TEST(formats, redis_url_refusals_say_why) {
    cluster_config c;
    std::string error;
    EXPECT_FALSE(parse_redis_url("http://cache", c, error));
    EXPECT_EQ(error, "must look like redis://[user:password@]host[:port][/db] (rediss:// for TLS)");
    EXPECT_FALSE(parse_redis_url("redis://user@cache", c, error));
    EXPECT_EQ(error, "credentials must be user:password@ or :password@");
    EXPECT_FALSE(parse_redis_url("redis://:%zz@cache", c, error));
    EXPECT_EQ(error, "bad percent-encoding in the credentials");
    EXPECT_FALSE(parse_redis_url("redis://cache/x", c, error));
    EXPECT_EQ(error, "database must be a number, e.g. redis://127.0.0.1:6379/0");
    EXPECT_FALSE(parse_redis_url("redis://cache:99999", c, error));
}

TEST(formats, several_redis_urls_are_seeds_of_one_redis_cluster) {
    cluster_config c;
    std::string error;
    ASSERT_TRUE(parse_redis_urls("redis://:pw@10.0.0.1:7001/0, redis://:pw@10.0.0.2:7002,redis://:pw@[::1]", c, error))
        << error;
    EXPECT_EQ(c.redis_host, "10.0.0.1");
    EXPECT_EQ(c.redis_password, "pw");
    ASSERT_EQ(c.redis_seeds.size(), 3u);
    EXPECT_EQ(c.redis_seeds[1], (redis_seed{"10.0.0.2", 7002}));
    EXPECT_EQ(c.redis_seeds[2], (redis_seed{"::1", 6379}));
    ASSERT_TRUE(parse_redis_urls("redis://cache:6380/2", c, error)) << error;  // one: any database
    EXPECT_EQ(c.redis_seeds, (std::vector<redis_seed>{{"cache", 6380}}));
    EXPECT_EQ(c.redis_db, 2);
}

TEST(formats, redis_seeds_must_agree_and_use_database_0) {
    cluster_config c;
    std::string error;
    EXPECT_FALSE(parse_redis_urls("redis://a/1, redis://b/1", c, error));
    EXPECT_EQ(error, "several addresses name a Redis Cluster, which has database 0 only (…/0 or no database)");
    EXPECT_FALSE(parse_redis_urls("redis://a, rediss://b", c, error));
    EXPECT_EQ(error, "address 2: every address of a Redis Cluster must use the same scheme, credentials and database");
    EXPECT_FALSE(parse_redis_urls("redis://:x@a, redis://b", c, error));
    EXPECT_EQ(error, "address 2: every address of a Redis Cluster must use the same scheme, credentials and database");
    EXPECT_FALSE(parse_redis_urls("redis://a, ", c, error));
    EXPECT_EQ(error, "address 2: must look like redis://[user:password@]host[:port][/db] (rediss:// for TLS)");
}

TEST(formats, token_sources) {
    token_source t;
    std::string error;
    ASSERT_TRUE(parse_token_source("header:X-Token", t, error)) << error;
    EXPECT_EQ(t.where, token_source::kind::header);
    EXPECT_EQ(t.name, "x-token");
    ASSERT_TRUE(parse_token_source("cookie:Session", t, error)) << error;
    EXPECT_EQ(t.where, token_source::kind::cookie);
    EXPECT_EQ(t.name, "Session");  // cookie names are case-sensitive
    EXPECT_FALSE(parse_token_source("query", t, error));
    EXPECT_EQ(error, "expected query:NAME, header:NAME or cookie:NAME");
    EXPECT_FALSE(parse_token_source("query:a b", t, error));
    EXPECT_EQ(error, "'a b' is not a valid query name");
}

TEST(formats, room_templates) {
    std::vector<std::string> params{"room", "id"};
    std::string error;
    EXPECT_TRUE(check_room_template("room:{room}:{id}", params, error)) << error;
    EXPECT_TRUE(check_room_template("user:{user}", params, error)) << error;
    EXPECT_TRUE(check_room_template("{claims.tenant}/{room}", params, error)) << error;
    EXPECT_TRUE(check_room_template("lobby", params, error)) << error;
    EXPECT_FALSE(check_room_template("{claims.}", params, error));
    EXPECT_EQ(error, "unknown reference {claims.}: use a route parameter, {user} or {claims.NAME}");
    EXPECT_FALSE(check_room_template("a}", params, error));
    EXPECT_EQ(error, "'}' without '{'");
    EXPECT_FALSE(check_room_template("", params, error));
    EXPECT_EQ(error, "a room name must not be empty");
}

TEST(formats, tokens) {
    EXPECT_TRUE(is_token("chat.v1"));
    EXPECT_TRUE(is_token("X-Forwarded-For"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("a b"));
    EXPECT_FALSE(is_token("a/b"));
}

}  // namespace
}  // namespace wsgated::config
