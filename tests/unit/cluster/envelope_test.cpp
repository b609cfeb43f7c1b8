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

}  // namespace
}  // namespace wsgated::cluster
