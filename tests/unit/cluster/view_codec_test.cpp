// view_codec: a connection's view through Redis (cluster/view_codec.h).
#include "cluster/view_codec.h"

#include <gtest/gtest.h>

namespace wsgated::cluster {
namespace {

TEST(view_codec, round_trips_a_view) {
    hub::connection_view v;
    v.info.id = "abcdef0123456789012345678901";
    v.info.route = "/chat/{room}";
    v.info.params = {{"room", "lobby"}};
    v.info.user = "alice";
    v.info.claims_json = R"({"tenant":"acme"})";
    v.info.headers = {{"x-trace", "1"}};
    v.info.remote_address = "203.0.113.9";
    v.info.connected_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
    v.info.rtt = std::chrono::microseconds(1500);
    v.rooms = {"a", "lobby"};
    auto d = decode_view(encode_view(v));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->info.id, v.info.id);
    EXPECT_EQ(d->info.params, v.info.params);
    EXPECT_EQ(d->info.headers, v.info.headers);
    EXPECT_EQ(d->info.claims_json, v.info.claims_json);
    EXPECT_EQ(d->info.connected_at, v.info.connected_at);
    EXPECT_EQ(*d->info.rtt, *v.info.rtt);
    EXPECT_EQ(d->rooms, v.rooms);
    v.info.rtt.reset();
    EXPECT_FALSE(decode_view(encode_view(v))->info.rtt);
}

TEST(view_codec, refuses_a_garbled_view) {
    EXPECT_FALSE(decode_view(""));
    EXPECT_FALSE(decode_view("[]"));
    EXPECT_FALSE(decode_view(R"({"id":"x"})"));
    EXPECT_FALSE(decode_view(R"({"id":"x","route":"r","user":"","claims":"{}","remote":"","params":[["a"]],)"
                             R"("headers":[],"at_ms":1,"rooms":[]})"));
    EXPECT_FALSE(decode_view(R"({"id":"x","route":"r","user":"","claims":"{}","remote":"","params":[],)"
                             R"("headers":[],"at_ms":1,"rooms":[1]})"));
    // A connection time the clock cannot hold (UBSan: signed overflow converting to nanoseconds).
    EXPECT_FALSE(decode_view(R"({"id":"x","route":"r","user":"","claims":"{}","remote":"","params":[],)"
                             R"("headers":[],"at_ms":13333333333333,"rooms":[]})"));
    EXPECT_FALSE(decode_view(R"({"id":"x","route":"r","user":"","claims":"{}","remote":"","params":[],)"
                             R"("headers":[],"at_ms":-1,"rooms":[]})"));
    EXPECT_TRUE(decode_view(R"({"id":"x","route":"r","user":"","claims":"{}","remote":"","params":[],)"
                            R"("headers":[],"at_ms":1764720000000,"rooms":[]})"));
}

}  // namespace
}  // namespace wsgated::cluster
