// server_frame: the frames a server writes (RFC 6455 §5.2): unmasked, never fragmented. Data
// frame headers (the payload follows them in the coalescing layer, copied or shared), and whole
// control frames (ping, pong, close). The session frames everything it sends itself, so that
// many frames leave in one write.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wsgated::ws {

// The most a header takes: 2 bytes plus a 64-bit length.
inline constexpr std::size_t max_frame_header = 10;

struct frame_header {
    std::array<unsigned char, max_frame_header> bytes{};
    std::size_t size = 0;
    std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), size}; }
};

// FIN set, opcode 1 (text) or 2 (binary), RSV1 when the payload is compressed
// (permessage-deflate), the shortest length encoding the RFC requires.
frame_header data_frame_header(bool binary, std::uint64_t payload_size, bool compressed = false);

// A whole control frame: its payload is at most 125 bytes (longer is cut there).
struct control_frame {
    std::array<unsigned char, 2 + 125> bytes{};
    std::size_t size = 0;
    std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), size}; }
};

control_frame ping_frame(std::string_view payload);
control_frame pong_frame(std::string_view payload);
// Code 1005 ("none") is never written: it makes an empty close frame. The reason is cut to the
// 123 bytes that fit, at a code point boundary (a close reason must stay UTF-8).
control_frame close_frame(std::uint16_t code, std::string_view reason);

}  // namespace wsgated::ws
