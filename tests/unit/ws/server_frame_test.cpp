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
