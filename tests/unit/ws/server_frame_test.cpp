// Tests for ws/server_frame: the three length encodings at their edges (RFC 6455 §5.2).
#include "ws/server_frame.h"

#include <gtest/gtest.h>

#include <vector>

using wsgated::ws::data_frame_header;

namespace {
std::vector<int> bytes(bool binary, std::uint64_t n) {
    auto h = data_frame_header(binary, n);
    return {h.bytes.begin(), h.bytes.begin() + static_cast<std::ptrdiff_t>(h.size)};
}
}  // namespace

TEST(server_frame, text_and_binary_opcodes_with_fin) {
    EXPECT_EQ(bytes(false, 0), (std::vector<int>{0x81, 0}));
    EXPECT_EQ(bytes(true, 5), (std::vector<int>{0x82, 5}));
}

TEST(server_frame, seven_bit_length_up_to_125) {
    EXPECT_EQ(bytes(false, 125), (std::vector<int>{0x81, 125}));
}

TEST(server_frame, sixteen_bit_length_from_126_to_65535) {
    EXPECT_EQ(bytes(true, 126), (std::vector<int>{0x82, 126, 0, 126}));
    EXPECT_EQ(bytes(true, 65535), (std::vector<int>{0x82, 126, 0xFF, 0xFF}));
}

TEST(server_frame, sixty_four_bit_length_from_65536) {
    EXPECT_EQ(bytes(false, 65536), (std::vector<int>{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
    EXPECT_EQ(bytes(false, 0x0102030405060708ULL),
              (std::vector<int>{0x81, 127, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(server_frame, rsv1_marks_a_compressed_payload) {
    auto h = wsgated::ws::data_frame_header(false, 3, true);
    EXPECT_EQ(h.bytes[0], 0xC1);
    EXPECT_EQ(h.view().size(), 2u);
}

TEST(server_frame, control_frames_carry_their_payload_unmasked) {
    auto p = wsgated::ws::ping_frame("hi");
    EXPECT_EQ(p.view(), std::string_view("\x89\x02hi", 4));
    auto q = wsgated::ws::pong_frame(std::string(200, 'x'));  // cut to the 125 a control frame may carry
    EXPECT_EQ(q.size, 127u);
    EXPECT_EQ(q.bytes[1], 125);
}

TEST(server_frame, a_close_frame_has_the_code_then_a_reason_cut_at_a_code_point) {
    auto c = wsgated::ws::close_frame(1008, "slow consumer");
    EXPECT_EQ(c.view(), std::string_view("\x88\x0f\x03\xf0slow consumer", 17));
    EXPECT_EQ(wsgated::ws::close_frame(1005, "ignored").view(), std::string_view("\x88\x00", 2));
    std::string reason(121, 'a');
    reason += "\xc3\xa9\xc3\xa9";  // é é: the first fits in 123 bytes, the second does not
    auto cut = wsgated::ws::close_frame(1000, reason);
    EXPECT_EQ(cut.size, 2u + 2 + 123);
    EXPECT_EQ(cut.view().substr(4), std::string(121, 'a') + "\xc3\xa9");
}
