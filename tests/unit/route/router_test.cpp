// Tests for route/router.
#include "route/router.h"

#include <gtest/gtest.h>

using namespace wsgated;

namespace {

config::config_ptr make_config(std::initializer_list<const char*> paths) {
    auto c = std::make_shared<config::gateway_config>();
    for (auto p : paths) {
        config::route_config r;
        r.path = p;
        r.backend = "echo";
        c->routes.push_back(r);
    }
    return c;
}

}  // namespace

TEST(router, unknown_path_has_no_route) {
    route::router r(make_config({"/echo"}));
    route::params p;
    EXPECT_EQ(r.match("/nope", p), nullptr);
}

TEST(router, literal_route_wins_over_param_route_whatever_the_order) {
    route::router r(make_config({"/chat/{room}", "/chat/admin"}));
    route::params p;
    auto* m = r.match("/chat/admin", p);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->config->path, "/chat/admin");
    EXPECT_TRUE(p.empty());
    m = r.match("/chat/x", p);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->config->path, "/chat/{room}");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].second, "x");
}

TEST(router, first_param_route_in_file_order_wins) {
    route::router r(make_config({"/{a}/x", "/y/{b}"}));
    route::params p;
    auto* m = r.match("/y/x", p);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->config->path, "/{a}/x");
    EXPECT_EQ(p[0].first, "a");
}
