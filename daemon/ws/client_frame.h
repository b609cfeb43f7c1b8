// client_frame: the header of a frame a client sends (RFC 6455 §5.2), read from the wire, and
// the unmasking of its payload (§5.3). Pure functions, no state: ws/frame_reader holds what
// lies between frames (fragmentation, a header cut by a read) and calls these.
//
// What one header shows on its own is checked here: reserved bits, opcodes, the control frame
// rules (FIN, ≤ 125 bytes), the mask a client must set, the shortest length encoding. Each
// refusal names why, for the log; all of them close 1002.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wsgated::ws {

enum class opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

inline bool is_control(opcode op) { return static_cast<std::uint8_t>(op) >= 8; }

// The most a client frame's header takes: 2 bytes, a 64-bit length, the masking key.
inline constexpr std::size_t max_client_header = 14;

struct client_header {
    bool fin = false;
    bool rsv1 = false;  // permessage-deflate's "compressed" bit (the caller knows if it may be set)
    opcode op = opcode::continuation;
    std::uint32_t key = 0;  // the masking key, as the bytes stand on the wire (memcpy order)
    std::uint64_t length = 0;
    std::size_t size = 0;  // header bytes
};

enum class header_status { complete, need_more, refused };

struct header_result {
    header_status status = header_status::need_more;
    client_header header;
    std::string_view why;  // refused: what was wrong
};

// Reads the header at the start of `bytes` (which may hold more: the payload, other frames).
header_result parse_client_header(std::span<const unsigned char> bytes);

// XORs `data` with `key`, `offset` bytes into the payload (where the key stands after a cut).
// A word at a time: unmasking was a byte loop in Beast, and it is on every byte received.
void unmask(unsigned char* data, std::size_t n, std::uint32_t key, std::size_t offset);

}  // namespace wsgated::ws
