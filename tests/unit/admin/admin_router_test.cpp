// Tests for admin/admin_router: every answer of the admin listener.
#include "admin/admin_router.h"
#include "loader/loader.h"

#include <gtest/gtest.h>

#include <optional>

using namespace wsgated;
namespace http = boost::beast::http;

namespace {

struct admin_router : ::testing::Test {
    core::process_state ps{1};
    hub::delivery delivery{ps};
    boost::asio::io_context ioc;
    bool ready = true;
    // The schema's defaults (a default-constructed gateway_config has none: they live in the
    // schema alone), then changed by the tests that need other limits.
    std::shared_ptr<config::gateway_config> cfg =
        std::make_shared<config::gateway_config>(*config::load_string("routes: [{path: /echo, backend: echo}]\n", "<test>").config);
    admin::admin_state state{&ps, &delivery, ioc.get_executor(), [this] { return ready; },
                             [this] { return cfg; }, {}, admin::admin_scope::main};

    admin_router() {
        ps.set_worker_context(0, ioc);
        cfg->admin.token = "s3cret";
    }

    // No connection is involved: an answer is there once `ioc` (the worker and the listener's
    // thread at once here) has run what delivery posted.
    admin::response get(std::string target, std::string auth = {}, http::verb v = http::verb::get,
                        std::string body = {}, std::string type = {}) {
        admin::request req{v, target, 11};
        if (!auth.empty()) req.set(http::field::authorization, auth);
        if (!type.empty()) req.set(http::field::content_type, type);
        req.body() = std::move(body);
        std::optional<admin::response> out;
        admin::route_admin(req, state, [&](admin::response r) { out = std::move(r); });
        ioc.restart();
        ioc.run();
        EXPECT_TRUE(out) << "no answer for " << target;
        return out ? std::move(*out) : admin::response{};
    }
};

}  // namespace

TEST_F(admin_router, healthz_is_200_json) {
    auto res = get("/healthz");
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res[http::field::content_type], "application/json");
    EXPECT_EQ(res.body(), "{\"status\":\"ok\"}\n");
}

TEST_F(admin_router, readyz_follows_readiness) {
    EXPECT_EQ(get("/readyz").result(), http::status::ok);
    ready = false;
    EXPECT_EQ(get("/readyz").result(), http::status::service_unavailable);
}

TEST_F(admin_router, metrics_is_prometheus_text_with_counts) {
    ps.metrics.heartbeat_timeouts.inc(3);
    auto res = get("/metrics?x=1");
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(res.body().find("wsgate_heartbeat_timeouts_total 3\n"), std::string::npos);
}

TEST_F(admin_router, wrong_method_on_read_endpoints_is_405) {
    auto res = get("/metrics", {}, http::verb::post);
    EXPECT_EQ(res.result(), http::status::method_not_allowed);
    EXPECT_EQ(res[http::field::allow], "GET, HEAD");
}

TEST_F(admin_router, control_api_validates_before_touching_connections) {
    const std::string t = "Bearer s3cret";
    EXPECT_EQ(get("/v1/connections/short", t).result(), http::status::bad_request);
    EXPECT_EQ(get("/v1/connections/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", t).result(), http::status::not_found);
    EXPECT_EQ(get("/v1/connections/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", t, http::verb::put).result(),
              http::status::method_not_allowed);
    EXPECT_EQ(get("/v1/connections/AAAAAAAAAAAAAAAAAAAAAAAAAAAA?code=1005", t, http::verb::delete_).result(),
              http::status::bad_request);
    EXPECT_EQ(get("/v1/rooms/a%00b", t).result(), http::status::bad_request);
    EXPECT_EQ(get("/v1/rooms/" + std::string(257, 'r'), t).result(), http::status::bad_request);
    EXPECT_EQ(get("/v1/broadcast", t, http::verb::post, "\xff", "text/plain").result(), http::status::bad_request);
    cfg->server.limits.max_message_size = 4;
    EXPECT_EQ(get("/v1/broadcast", t, http::verb::post, "12345").result(), http::status::payload_too_large);
}

TEST_F(admin_router, bare_v1_is_404_not_a_crash) {
    EXPECT_EQ(get("/v1", "Bearer s3cret").result(), http::status::not_found);
    EXPECT_EQ(get("/v1/", "Bearer s3cret").result(), http::status::not_found);
    EXPECT_EQ(get("/v1?x=1", "Bearer s3cret").result(), http::status::not_found);
}

TEST_F(admin_router, room_names_may_hold_an_encoded_slash) {
    auto res = get("/v1/rooms/acme%2Flobby", "Bearer s3cret");
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_NE(res.body().find("\"room\":\"acme/lobby\""), std::string::npos);
}

TEST_F(admin_router, room_count_and_broadcast_answer_json) {
    const std::string t = "Bearer s3cret";
    auto res = get("/v1/rooms/room%3Alobby", t);
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res.body(), "{\"room\":\"room:lobby\",\"members\":0}\n");
    res = get("/v1/broadcast", t, http::verb::post, "hi", "text/plain");
    EXPECT_EQ(res.result(), http::status::accepted);
    EXPECT_EQ(res.body(), "{\"connections\":0}\n");
}

TEST_F(admin_router, unknown_endpoint_is_404_json) {
    auto res = get("/nope");
    EXPECT_EQ(res.result(), http::status::not_found);
    EXPECT_NE(res.body().find("\"error\""), std::string::npos);
}

TEST_F(admin_router, v1_without_or_with_wrong_token_is_401) {
    EXPECT_EQ(get("/v1/broadcast").result(), http::status::unauthorized);
    EXPECT_EQ(get("/v1/broadcast", "Bearer nope").result(), http::status::unauthorized);
    EXPECT_EQ(get("/v1/broadcast", "Bearer s3cret2").result(), http::status::unauthorized);
    EXPECT_EQ(get("/v1/broadcast", "Basic s3cret").result(), http::status::unauthorized);
    EXPECT_EQ(get("/v1/broadcast", "Bearer ").result(), http::status::unauthorized);
    EXPECT_EQ(get("/v1/nope", "Bearer s3cret").result(), http::status::not_found);
    EXPECT_EQ(get("/v1/nope", "bearer s3cret").result(), http::status::not_found);
}

TEST_F(admin_router, v1_with_no_token_configured_is_403_whatever_is_presented) {
    cfg->admin.token.clear();
    EXPECT_EQ(get("/v1/broadcast").result(), http::status::forbidden);
    EXPECT_EQ(get("/v1/broadcast", "Bearer ").result(), http::status::forbidden);
}

TEST(token_matches, compares_content_and_length) {
    EXPECT_TRUE(admin::token_matches("abc", "abc"));
    EXPECT_FALSE(admin::token_matches("abc", "abd"));
    EXPECT_FALSE(admin::token_matches("abc", "abcd"));
    EXPECT_FALSE(admin::token_matches("", "abc"));
}
