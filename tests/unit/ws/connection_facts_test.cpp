// Tests for ws/connection_facts: what a connection knows of its client, whether it keeps its
// params, identity and forwarded headers in a block of their own (with any of them) or not at
// all (an anonymous client on a route without params: idle memory, docs/performance.md).
#include "ws/connection_facts.h"

#include <gtest/gtest.h>

namespace {

using wsgated::ws::connection_facts;

wsgated::config::route_config route_with_rooms() {
    wsgated::config::route_config r;
    r.path = "/chat/{room}";
    r.rooms = {"room:{room}", "user:{user}", "tenant:{claims.tenant}"};
    return r;
}

}  // namespace

TEST(connection_facts, an_anonymous_client_without_params_has_the_empty_facts) {
    auto route = route_with_rooms();
    connection_facts f("id-1", &route, {}, wsgated::auth::identity{}, "127.0.0.1:4000");
    EXPECT_TRUE(f.params().empty());
    EXPECT_TRUE(f.identity().user.empty());
    EXPECT_EQ(f.identity().claims_json, "{}");
    EXPECT_TRUE(f.forwarded().empty());
    f.set_forwarded({});
    auto info = f.info(std::nullopt);
    EXPECT_EQ(info.id, "id-1");
    EXPECT_EQ(info.route, "/chat/{room}");
    EXPECT_EQ(info.claims_json, "{}");
    EXPECT_EQ(info.remote_address, "127.0.0.1:4000");
    EXPECT_TRUE(f.initial_rooms().empty()) << "every template names a param, user or claim it lacks";
}

TEST(connection_facts, params_identity_and_forwarded_headers_are_kept_and_reported) {
    auto route = route_with_rooms();
    wsgated::auth::identity who;
    who.user = "alice";
    who.rooms = {"extra"};
    who.claims = {{"tenant", "acme"}};
    who.claims_json = R"({"sub":"alice","tenant":"acme"})";
    connection_facts f("id-2", &route, {{"room", "lobby"}}, who, "[::1]:5000");
    f.set_forwarded({{"cookie", "a=b"}});
    EXPECT_EQ(f.identity().user, "alice");
    auto info = f.info(std::chrono::milliseconds(3));
    ASSERT_EQ(info.params.size(), 1u);
    EXPECT_EQ(info.params[0].second, "lobby");
    EXPECT_EQ(info.user, "alice");
    EXPECT_EQ(info.claims_json, who.claims_json);
    ASSERT_EQ(info.headers.size(), 1u);
    EXPECT_EQ(info.headers[0].first, "cookie");
    EXPECT_EQ(f.initial_rooms(), (std::vector<std::string>{"room:lobby", "user:alice", "tenant:acme", "extra"}));
}

TEST(connection_facts, an_identity_with_claims_only_is_kept) {
    auto route = route_with_rooms();
    wsgated::auth::identity who;
    who.claims = {{"tenant", "t1"}};
    who.claims_json = R"({"tenant":"t1"})";
    connection_facts f("id-3", &route, {}, who, "10.0.0.1:1");
    EXPECT_EQ(f.identity().claims_json, who.claims_json);
    EXPECT_EQ(f.initial_rooms(), (std::vector<std::string>{"tenant:t1"}));
}
