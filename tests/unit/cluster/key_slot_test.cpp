// Tests for cluster/key_slot: the values Redis documents and computes (CLUSTER KEYSLOT).
#include "cluster/key_slot.h"

#include <gtest/gtest.h>

#include "cluster/channels.h"

using namespace wsgated::cluster;

TEST(key_slot, crc16_is_xmodem) {
    EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);  // the check value of CRC-16/XMODEM
    EXPECT_EQ(crc16_xmodem(""), 0);
}

TEST(key_slot, matches_cluster_keyslot) {
    EXPECT_EQ(key_slot("foo"), 12182);
    EXPECT_EQ(key_slot("bar"), 5061);
    EXPECT_EQ(key_slot("somekey"), 11058);
}

TEST(key_slot, a_hash_tag_decides_and_an_empty_one_does_not) {
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
    EXPECT_EQ(key_slot("{user1000}.followers"), key_slot("{user1000}.following"));
    EXPECT_EQ(key_slot("foo{}{bar}"), key_slot("foo{}{bar}"));  // the whole key: the first tag is empty
    EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
    EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
    EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));
}

TEST(key_slot, a_rooms_channel_and_its_presence_keys_share_a_slot) {
    channels names(0);
    EXPECT_EQ(key_slot(names.room("lobby")), key_slot(names.room_members("lobby", "nodeA")));
    EXPECT_EQ(key_slot(names.room("lobby")), key_slot(names.room_members("lobby", "nodeB")));
    EXPECT_EQ(key_slot(names.node("nodeA")), key_slot(names.node_alive("nodeA")));
}
