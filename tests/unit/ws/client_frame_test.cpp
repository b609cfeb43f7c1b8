// Tests for ws/client_frame: header parsing at the edges RFC 6455 §5.2 draws, and unmasking a
// word at a time giving what a byte loop gives, at every alignment and key position.
#include "ws/client_frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace wsgated::ws;

namespace {

header_result parse(std::vector<unsigned char> b) { return parse_client_header(b); }

}  // namespace

TEST(client_frame, a_masked_text_frame_with_each_length_form) {
    auto small = parse({0x81, 0x85, 1, 2, 3, 4});
    ASSERT_EQ(small.status, header_status::complete);
    EXPECT_TRUE(small.header.fin);
    EXPECT_EQ(small.header.op, opcode::text);
    EXPECT_EQ(small.header.length, 5u);
    EXPECT_EQ(small.header.size, 6u);
    auto mid = parse({0x02, 0xFE, 0x01, 0x00, 1, 2, 3, 4});
    ASSERT_EQ(mid.status, header_status::complete);
    EXPECT_FALSE(mid.header.fin);
    EXPECT_EQ(mid.header.length, 256u);
    auto big = parse({0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4});
    ASSERT_EQ(big.status, header_status::complete);
    EXPECT_EQ(big.header.length, 65536u);
    EXPECT_EQ(big.header.size, 14u);
}

TEST(client_frame, a_cut_header_asks_for_more) {
    EXPECT_EQ(parse({0x81}).status, header_status::need_more);
    EXPECT_EQ(parse({0x81, 0x85, 1, 2, 3}).status, header_status::need_more);
    EXPECT_EQ(parse({0x82, 0xFF, 0, 0, 0}).status, header_status::need_more);
}

TEST(client_frame, what_one_header_shows_wrong_is_refused) {
    EXPECT_EQ(parse({0xA1, 0x80, 1, 2, 3, 4}).status, header_status::refused);  // RSV2
    EXPECT_EQ(parse({0x91, 0x80, 1, 2, 3, 4}).status, header_status::refused);  // RSV3
    EXPECT_EQ(parse({0x83, 0x80, 1, 2, 3, 4}).status, header_status::refused);  // opcode 3
    EXPECT_EQ(parse({0x8B, 0x80, 1, 2, 3, 4}).status, header_status::refused);  // opcode 11
    EXPECT_EQ(parse({0x09, 0x80, 1, 2, 3, 4}).status, header_status::refused);  // fragmented ping
    EXPECT_EQ(parse({0x89, 0xFE, 0, 126, 1, 2, 3, 4}).status, header_status::refused);  // ping > 125
    EXPECT_EQ(parse({0x81, 0x05}).status, header_status::refused);  // unmasked
    EXPECT_EQ(parse({0x81, 0xFE, 0, 125, 1, 2, 3, 4}).status, header_status::refused);  // 16 bits for 125
    EXPECT_EQ(parse({0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4}).status, header_status::refused);  // 64 for 16
    EXPECT_EQ(parse({0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}).status, header_status::refused);  // top bit
    auto r = parse({0x81, 0x05});
    EXPECT_EQ(r.why, "unmasked client frame");
}

TEST(client_frame, rsv1_is_reported_not_judged) {
    auto r = parse({0xC1, 0x80, 1, 2, 3, 4});
    ASSERT_EQ(r.status, header_status::complete);
    EXPECT_TRUE(r.header.rsv1);
}

TEST(client_frame, unmasking_a_word_at_a_time_equals_the_byte_loop) {
    const unsigned char key_bytes[4] = {0x37, 0xfa, 0x21, 0x3d};
    std::uint32_t key;
    std::memcpy(&key, key_bytes, 4);
    std::vector<unsigned char> base(300);
    for (std::size_t i = 0; i < base.size(); ++i) base[i] = static_cast<unsigned char>(i * 7 + 3);
    for (std::size_t start = 0; start < 8; ++start)
        for (std::size_t n : {0, 1, 3, 7, 8, 9, 31, 32, 33, 64, 100, 257})
            for (std::size_t offset = 0; offset < 4; ++offset) {
                auto fast = base;
                unmask(fast.data() + start, n, key, offset);
                auto slow = base;
                for (std::size_t i = 0; i < n; ++i) slow[start + i] ^= key_bytes[(offset + i) % 4];
                ASSERT_EQ(fast, slow) << "start " << start << " n " << n << " offset " << offset;
            }
}
