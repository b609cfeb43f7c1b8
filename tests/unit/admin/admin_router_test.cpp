// Tests for admin/admin_router: every answer of the admin listener.
#include "admin/admin_router.h"

#include <gtest/gtest.h>

using namespace wsgated;
namespace http = boost::beast::http;

namespace {

struct admin_router : ::testing::Test {
    hub::hub hub{1};
    bool ready = true;
    admin::admin_state state{&hub, "s3cret", [this] { return ready; }};

    admin::response get(std::string target, std::string auth = {}, http::verb v = http::verb::get) {
        admin::request req{v, target, 11};
        if (!auth.empty()) req.set(http::field::authorization, auth);
        return admin::route_admin(req, state);
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
    hub.metrics.heartbeat_timeouts.inc(3);
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
    EXPECT_EQ(get("/v1/broadcast", "Bearer s3cret").result(), http::status::not_implemented);
    EXPECT_EQ(get("/v1/broadcast", "bearer s3cret").result(), http::status::not_implemented);
}

TEST_F(admin_router, v1_with_no_token_configured_is_403_whatever_is_presented) {
    state.token.clear();
    EXPECT_EQ(get("/v1/broadcast").result(), http::status::forbidden);
    EXPECT_EQ(get("/v1/broadcast", "Bearer ").result(), http::status::forbidden);
}

TEST(token_matches, compares_content_and_length) {
    EXPECT_TRUE(admin::token_matches("abc", "abc"));
    EXPECT_FALSE(admin::token_matches("abc", "abd"));
    EXPECT_FALSE(admin::token_matches("abc", "abcd"));
    EXPECT_FALSE(admin::token_matches("", "abc"));
}
