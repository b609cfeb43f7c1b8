// frames: every byte wsbench sends is built here once, before the run: message payloads
// (word-like filler after a stamp), masked client frames, the permessage-deflate form of a
// message, close and pong frames. The hot path only copies a template and writes the stamp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wsbench {

inline constexpr std::uint8_t op_text = 0x1, op_binary = 0x2, op_close = 0x8, op_ping = 0x9,
                              op_pong = 0xA;

// `n` bytes of printable word-like text (compresses roughly 3:1, like chat JSON).
std::vector<std::uint8_t> make_filler(std::size_t n);

// A masked client frame built once; stamp() writes per-message bytes (the send time, a
// sequence number) at a fixed payload offset, masking them as the template was masked.
struct frame_template {
    std::vector<std::uint8_t> bytes;  // the whole frame, header and masked payload
    std::size_t payload_at = 0;       // payload offset within bytes
    std::size_t stamp_at = 0;         // offset within the payload where stamps go
    std::uint8_t mask[4] = {};

    // Writes `n` plain bytes at the stamp offset of `frame` (a copy of `bytes`).
    void stamp(std::uint8_t* frame, const void* data, std::size_t n) const {
        auto* d = static_cast<const std::uint8_t*>(data);
        std::size_t at = stamp_at;
        for (std::size_t i = 0; i < n; ++i, ++at) frame[payload_at + at] = d[i] ^ mask[at & 3];
    }
};

// first_byte: FIN | RSV1 | opcode, e.g. 0x82 (binary) or 0xC2 (compressed binary).
frame_template make_frame(std::uint8_t first_byte, const std::vector<std::uint8_t>& payload,
                          std::size_t stamp_at);

// The permessage-deflate body of `payload` for a client without context takeover: an
// uncompressed (stored) block holding the first `stamp_len` bytes, so they can be stamped
// after compression, then the rest raw-deflated and sync-flushed, without the trailing
// 00 00 FF FF (RFC 7692 §7.2.1). Sets `stamp_at` to the stamp's offset. Empty on zlib error.
std::vector<std::uint8_t> deflate_with_stamp_block(const std::vector<std::uint8_t>& payload,
                                                   std::size_t stamp_len, std::size_t& stamp_at);

// A masked close frame with `code` and a masked pong echoing `data` (≤ 125 bytes).
std::vector<std::uint8_t> close_frame(std::uint16_t code);
void append_pong(std::vector<std::uint8_t>& out, const std::uint8_t* data, std::size_t n);

}  // namespace wsbench
