// Tests for route/room_template.
#include "route/room_template.h"

#include <gtest/gtest.h>

using wsgated::route::expand_room;

TEST(room_template, literal_room_is_kept) {
    EXPECT_EQ(expand_room("lobby", {}, ""), "lobby");
}

TEST(room_template, params_user_and_claims_are_substituted) {
    wsgated::route::params p{{"room", "a"}, {"t", "acme"}};
    EXPECT_EQ(expand_room("room:{room}", p, ""), "room:a");
    EXPECT_EQ(expand_room("{t}/{room}/{room}", p, ""), "acme/a/a");
    EXPECT_EQ(expand_room("user:{user}", p, "u1"), "user:u1");
    EXPECT_EQ(expand_room("tenant:{claims.tenant}", p, "u1", {{"tenant", "t9"}}), "tenant:t9");
}

TEST(room_template, missing_value_means_no_room) {
    EXPECT_FALSE(expand_room("user:{user}", {}, ""));
    EXPECT_FALSE(expand_room("{claims.tenant}", {}, "u1"));
    EXPECT_FALSE(expand_room("{nope}", {{"room", "a"}}, ""));
}
