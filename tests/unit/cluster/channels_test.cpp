// channels: the names in Redis (cluster/channels.h).
#include "cluster/channels.h"

#include <gtest/gtest.h>

namespace wsgated::cluster {
namespace {

// Redis Cluster's hash tag: the part between the first '{' and the next '}'.
std::string_view hash_tag(std::string_view key) {
    auto open = key.find('{');
    auto close = key.find('}', open + 1);
    return key.substr(open + 1, close - open - 1);
}

TEST(channels, a_room_and_its_presence_keys_share_a_slot) {
    channels names(0);
    EXPECT_EQ(names.room("lobby"), "wsg:0:{r:lobby}");
    EXPECT_EQ(hash_tag(names.room("lobby")), hash_tag(names.room_members("lobby", "NODE01")));
    EXPECT_EQ(hash_tag(names.room("a}b")), hash_tag(names.room_members("a}b", "NODE01")));
    EXPECT_EQ(hash_tag(names.user_connections("alice", "N1")), "u:alice");
}

TEST(channels, databases_do_not_share_channels) {
    EXPECT_NE(channels(0).all(), channels(1).all());
    EXPECT_NE(channels(0).node("x"), channels(1).node("x"));
}

TEST(channels, room_of_reads_a_room_channel_back) {
    channels names(2);
    EXPECT_EQ(names.room_of(names.room("tenant/lobby")), "tenant/lobby");
    EXPECT_EQ(names.room_of(names.room("a}b")), "a}b");
    EXPECT_EQ(names.room_of(names.all()), "");
    EXPECT_EQ(names.room_of(channels(3).room("x")), "");
}

}  // namespace
}  // namespace wsgated::cluster
