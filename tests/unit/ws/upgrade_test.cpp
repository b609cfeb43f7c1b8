// Tests for ws/upgrade: every answer before the upgrade (SPEC §3).
#include "ws/upgrade.h"

#include <gtest/gtest.h>

using namespace wsgated;
namespace http = boost::beast::http;

namespace {

std::shared_ptr<route::router> make_router() {
    auto c = std::make_shared<config::gateway_config>();
    config::route_config echo;
    echo.path = "/echo";
    echo.backend = "echo";
    c->routes.push_back(echo);
    config::route_config chat;
    chat.path = "/chat/{room}";
    chat.backend = "echo";
    chat.origins = std::vector<std::string>{"https://app.example.com"};
    chat.subprotocols = {"chat.v2", "chat.v1"};
    c->routes.push_back(chat);
    return std::make_shared<route::router>(c);
}

ws::upgrade_request upgrade(std::string target) {
    ws::upgrade_request req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::connection, "keep-alive, Upgrade");
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::sec_websocket_version, "13");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    return req;
}

ws::upgrade_request chat(std::string origin, std::string protocols) {
    auto req = upgrade("/chat/lobby?x=1");
    if (!origin.empty()) req.set(http::field::origin, origin);
    if (!protocols.empty()) req.set(http::field::sec_websocket_protocol, protocols);
    return req;
}

std::string header(const ws::upgrade_decision& d, std::string_view name) {
    for (auto& [k, v] : d.headers)
        if (k == name) return v;
    return {};
}

}  // namespace

TEST(upgrade, accepts_a_valid_upgrade_and_ignores_the_query) {
    auto r = make_router();
    auto d = ws::decide_upgrade(upgrade("/echo?token=abc"), *r);
    EXPECT_TRUE(d.accepted());
    EXPECT_EQ(d.route->config->path, "/echo");
    EXPECT_EQ(d.version, 13);
}

TEST(upgrade, unknown_path_is_404_even_with_upgrade_headers) {
    auto r = make_router();
    EXPECT_EQ(ws::decide_upgrade(upgrade("/nope"), *r).status, http::status::not_found);
}

TEST(upgrade, plain_get_on_a_route_is_426_with_upgrade_header) {
    auto r = make_router();
    ws::upgrade_request req{http::verb::get, "/echo", 11};
    req.set(http::field::host, "localhost");
    auto d = ws::decide_upgrade(req, *r);
    EXPECT_EQ(d.status, http::status::upgrade_required);
    EXPECT_EQ(header(d, "Upgrade"), "websocket");
}

TEST(upgrade, post_with_upgrade_headers_is_426) {
    auto r = make_router();
    auto req = upgrade("/echo");
    req.method(http::verb::post);
    EXPECT_EQ(ws::decide_upgrade(req, *r).status, http::status::upgrade_required);
}

TEST(upgrade, unsupported_version_is_426_naming_13_and_8) {
    auto r = make_router();
    for (const char* v : {"7", "12", "14", "", "13x"}) {
        auto req = upgrade("/echo");
        req.set(http::field::sec_websocket_version, v);
        auto d = ws::decide_upgrade(req, *r);
        EXPECT_EQ(d.status, http::status::upgrade_required) << v;
        EXPECT_EQ(header(d, "Sec-WebSocket-Version"), "13, 8") << v;
    }
}

TEST(upgrade, hybi_08_is_accepted) {
    auto r = make_router();
    auto req = upgrade("/echo");
    req.set(http::field::sec_websocket_version, "8");
    auto d = ws::decide_upgrade(req, *r);
    EXPECT_TRUE(d.accepted());
    EXPECT_EQ(d.version, 8);
}

TEST(upgrade, missing_or_malformed_key_is_400) {
    auto r = make_router();
    for (const char* k : {"", "short", "dGhlIHNhbXBsZSBub25jZQ=", "!!!!!!!!!!!!!!!!!!!!!!=="}) {
        auto req = upgrade("/echo");
        req.set(http::field::sec_websocket_key, k);
        EXPECT_EQ(ws::decide_upgrade(req, *r).status, http::status::bad_request) << k;
    }
}

TEST(upgrade, origin_mismatch_or_missing_is_403) {
    auto r = make_router();
    EXPECT_EQ(ws::decide_upgrade(chat("https://evil.example.com", "chat.v1"), *r).status,
              http::status::forbidden);
    EXPECT_EQ(ws::decide_upgrade(chat("", "chat.v1"), *r).status, http::status::forbidden);
    EXPECT_TRUE(ws::decide_upgrade(chat("https://APP.example.com", "chat.v1"), *r).accepted());
}

TEST(upgrade, hybi_08_origin_comes_from_sec_websocket_origin) {
    auto r = make_router();
    auto req = chat("", "chat.v1");
    req.set(http::field::sec_websocket_version, "8");
    req.set("Sec-WebSocket-Origin", "https://evil.example.com");
    EXPECT_EQ(ws::decide_upgrade(req, *r).status, http::status::forbidden);
    req.set("Sec-WebSocket-Origin", "https://app.example.com");
    EXPECT_TRUE(ws::decide_upgrade(req, *r).accepted());
}

TEST(upgrade, subprotocol_is_the_first_supported_one_the_client_offers) {
    auto r = make_router();
    auto d = ws::decide_upgrade(chat("https://app.example.com", "x, chat.v1 ,chat.v2"), *r);
    ASSERT_TRUE(d.accepted());
    EXPECT_EQ(d.subprotocol, "chat.v1");
    ASSERT_EQ(d.params.size(), 1u);
    EXPECT_EQ(d.params[0].second, "lobby");
}

TEST(upgrade, no_supported_subprotocol_is_400) {
    auto r = make_router();
    EXPECT_EQ(ws::decide_upgrade(chat("https://app.example.com", "x, y"), *r).status,
              http::status::bad_request);
    EXPECT_EQ(ws::decide_upgrade(chat("https://app.example.com", ""), *r).status,
              http::status::bad_request);
}

TEST(upgrade, route_without_subprotocols_selects_none) {
    auto r = make_router();
    auto req = upgrade("/echo");
    req.set(http::field::sec_websocket_protocol, "whatever");
    auto d = ws::decide_upgrade(req, *r);
    EXPECT_TRUE(d.accepted());
    EXPECT_TRUE(d.subprotocol.empty());
}

// Found from outside (issue 16): Beast refused these after the auth hook, with a bare 400
// that no reason counted.
TEST(upgrade, a_request_without_host_or_with_two_is_400_before_anything_else) {
    auto r = make_router();
    auto none = upgrade("/nowhere");  // even the 404 comes after
    none.erase(http::field::host);
    auto d = ws::decide_upgrade(none, *r);
    EXPECT_EQ(d.status, http::status::bad_request);
    EXPECT_EQ(d.reason, "bad_host");
    auto two = upgrade("/echo");
    two.insert(http::field::host, "other");
    EXPECT_EQ(ws::decide_upgrade(two, *r).reason, "bad_host");
}

TEST(upgrade, a_second_key_or_version_field_is_400) {
    auto r = make_router();
    auto keys = upgrade("/echo");
    keys.insert(http::field::sec_websocket_key, "AQIDBAUGBwgJCgsMDQ4PEA==");
    auto d = ws::decide_upgrade(keys, *r);
    EXPECT_EQ(d.status, http::status::bad_request);
    EXPECT_EQ(d.reason, "bad_key");
    auto versions = upgrade("/echo");
    versions.insert(http::field::sec_websocket_version, "13");
    d = ws::decide_upgrade(versions, *r);
    EXPECT_EQ(d.status, http::status::bad_request);
    EXPECT_EQ(d.reason, "version");
    EXPECT_EQ(header(d, "Sec-WebSocket-Version"), "13, 8");
}
