// envelope: what nodes say to each other, encoded and decoded (cluster/envelope.h).
#include "cluster/envelope.h"

#include <gtest/gtest.h>

namespace wsgated::cluster {
namespace {

TEST(envelope, round_trips_every_field) {
    std::string payload("bin\0ary\n", 8);
    envelope e{.kind = kind::request, .op = std::uint8_t(op::send), .flags = flag::binary | flag::wait_written,
               .seq = 300, .code = 4999, .origin = "AbC_-9", .a = "room/with:colons", .b = "b", .c = "",
               .payload = payload};
    std::string bytes = encode(e);
    auto d = decode(bytes);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->kind, kind::request);
    EXPECT_EQ(d->op, std::uint8_t(op::send));
    EXPECT_EQ(d->flags, flag::binary | flag::wait_written);
    EXPECT_EQ(d->seq, 300u);
    EXPECT_EQ(d->code, 4999u);
    EXPECT_EQ(d->origin, "AbC_-9");
    EXPECT_EQ(d->a, "room/with:colons");
    EXPECT_EQ(d->b, "b");
    EXPECT_EQ(d->c, "");
    EXPECT_EQ(d->payload, payload);
}

TEST(envelope, large_numbers_survive_the_varints) {
    envelope e{.kind = kind::reply, .seq = UINT64_MAX, .code = (1ull << 35) + 7, .origin = "n"};
    auto d = decode(encode(e));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->seq, UINT64_MAX);
    EXPECT_EQ(d->code, (1ull << 35) + 7);
}

TEST(envelope, a_payload_is_passed_as_it_is) {
    std::string big(70000, 'x');
    envelope e{.kind = kind::publish, .origin = "n", .a = "lobby", .payload = big};
    std::string bytes = encode(e);
    EXPECT_LT(bytes.size(), big.size() + 32);
    EXPECT_EQ(decode(bytes)->payload.size(), big.size());
}

TEST(envelope, refuses_what_is_not_a_whole_envelope) {
    std::string good = encode(envelope{.kind = kind::publish, .origin = "node", .a = "room", .payload = "p"});
    EXPECT_FALSE(decode(""));
    EXPECT_FALSE(decode("w"));
    EXPECT_FALSE(decode("xP\0\0" + good.substr(4)));   // not our magic
    std::string unknown = good;
    unknown[1] = 'Z';                                  // no such kind
    EXPECT_FALSE(decode(unknown));
    for (std::size_t cut = 0; cut < good.size() - 1; ++cut)  // every cut before the payload fails
        if (cut < good.size() - 1) EXPECT_FALSE(decode(good.substr(0, cut))) << cut;
    std::string long_string = good.substr(0, 6) + "\x7f" + "abc";  // origin longer than the rest
    EXPECT_FALSE(decode(long_string));
    std::string overlong(4, '\0');
    overlong[0] = 'w';
    overlong[1] = 'P';
    overlong += std::string(11, '\xff');  // a varint past 64 bits
    EXPECT_FALSE(decode(overlong));
    std::string padded = good.substr(0, 4) + "\x80" + std::string(1, '\0') + good.substr(5);  // seq 0 as two bytes
    EXPECT_FALSE(decode(padded));
}

TEST(envelope, an_origin_is_a_node_tag) {
    EXPECT_TRUE(valid_origin("AbC_-9"));
    EXPECT_FALSE(valid_origin(""));
    EXPECT_FALSE(valid_origin("AbC_-"));    // short
    EXPECT_FALSE(valid_origin("AbC_-9x"));  // long
    EXPECT_FALSE(valid_origin("AbC_+9"));   // not base64url
}

// What the control API would refuse is refused from another node too.
TEST(envelope, requests_carry_what_the_control_api_accepts) {
    const std::string id = "AbC_-9" + std::string(22, 'x');
    envelope publish{.kind = kind::publish, .origin = "AbC_-9", .a = "lobby"};
    EXPECT_TRUE(valid_fields(publish));
    publish.b = id;  // exclude
    EXPECT_TRUE(valid_fields(publish));
    publish.b = "not-an-id";
    EXPECT_FALSE(valid_fields(publish));
    publish.b = {};
    publish.a = "";
    EXPECT_FALSE(valid_fields(publish)) << "a room needs a name";

    envelope user_join{.kind = kind::user_join, .origin = "AbC_-9", .a = "alice", .b = std::string(300, 'r')};
    EXPECT_FALSE(valid_fields(user_join)) << "a room name past the limit";
    user_join.b = "room";
    EXPECT_TRUE(valid_fields(user_join));

    envelope close{.kind = kind::user_close, .code = 1000, .origin = "AbC_-9", .a = "alice", .b = "bye"};
    EXPECT_TRUE(valid_fields(close));
    for (std::uint64_t bad : {0ull, 1005ull, 1006ull, 2999ull, 5000ull, 65536ull}) {
        close.code = bad;
        EXPECT_FALSE(valid_fields(close)) << bad;
    }
    close.code = 4000;
    std::string long_reason(124, 'x');
    close.b = long_reason;
    EXPECT_FALSE(valid_fields(close)) << "a reason past 123 bytes";

    envelope join{.kind = kind::request, .op = std::uint8_t(op::join), .origin = "AbC_-9", .a = id, .b = "ok"};
    EXPECT_TRUE(valid_fields(join));
    join.b = "";
    EXPECT_FALSE(valid_fields(join));
    envelope conn_close{.kind = kind::request, .op = std::uint8_t(op::close), .code = 1006, .origin = "AbC_-9", .a = id};
    EXPECT_FALSE(valid_fields(conn_close));
}

}  // namespace
}  // namespace wsgated::cluster
