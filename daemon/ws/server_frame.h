// server_frame: the header of an unmasked, unfragmented data frame (RFC 6455 §5.2), what a
// server writes. The session frames its outgoing messages itself (see session.cpp) so that many
// of them leave in one write; Beast frames only compressed messages and control frames.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace wsgated::ws {

// The most a header takes: 2 bytes plus a 64-bit length.
inline constexpr std::size_t max_frame_header = 10;

struct frame_header {
    std::array<unsigned char, max_frame_header> bytes{};
    std::size_t size = 0;
};

// FIN set, opcode 1 (text) or 2 (binary), the shortest length encoding the RFC requires.
frame_header data_frame_header(bool binary, std::uint64_t payload_size);

}  // namespace wsgated::ws
