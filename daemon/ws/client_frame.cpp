// client_frame: see client_frame.h.
#include "ws/client_frame.h"

#include <cstring>

namespace wsgated::ws {
namespace {

header_result refused(std::string_view why) { return {header_status::refused, {}, why}; }

bool known_opcode(unsigned op) { return op <= 2 || (op >= 8 && op <= 10); }

}  // namespace

header_result parse_client_header(std::span<const unsigned char> b) {
    if (b.size() < 2) return {};
    client_header h;
    h.fin = b[0] & 0x80;
    h.rsv1 = b[0] & 0x40;
    unsigned op = b[0] & 0x0F;
    unsigned len7 = b[1] & 0x7F;
    // In the order a peer can tell apart, the order Beast checked in (and the fuzz reference).
    if (b[0] & 0x30) return refused("reserved bit RSV2 or RSV3 set");
    if (!known_opcode(op)) return refused("reserved opcode");
    h.op = static_cast<opcode>(op);
    if (is_control(h.op) && !h.fin) return refused("fragmented control frame");
    if (is_control(h.op) && len7 > 125) return refused("control frame over 125 bytes");
    if (!(b[1] & 0x80)) return refused("unmasked client frame");
    std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    h.size = 2 + ext + 4;
    if (b.size() < h.size) return {};
    h.length = len7;
    if (ext) {
        h.length = 0;
        for (std::size_t i = 0; i < ext; ++i) h.length = (h.length << 8) | b[2 + i];
        if (ext == 2 && h.length < 126) return refused("length not in its shortest form");
        if (ext == 8 && h.length < 65536) return refused("length not in its shortest form");
        if (ext == 8 && (h.length >> 63)) return refused("length with its top bit set");
    }
    std::memcpy(&h.key, b.data() + 2 + ext, 4);
    return {header_status::complete, h, {}};
}

void unmask(unsigned char* data, std::size_t n, std::uint32_t key, std::size_t offset) {
    unsigned char k[4];
    std::memcpy(k, &key, 4);
    std::size_t i = 0;
    // Bytes until `data` is 8-aligned, then the key rotated to that place, 8 bytes a step.
    for (; i < n && (reinterpret_cast<std::uintptr_t>(data + i) & 7); ++i) data[i] ^= k[(offset + i) & 3];
    if (n - i >= 8) {
        unsigned char rotated[8];
        for (int j = 0; j < 8; ++j) rotated[j] = k[(offset + i + j) & 3];
        std::uint64_t w8;
        std::memcpy(&w8, rotated, 8);
        for (; n - i >= 32; i += 32) {
            std::uint64_t w[4];
            std::memcpy(w, data + i, 32);
            w[0] ^= w8, w[1] ^= w8, w[2] ^= w8, w[3] ^= w8;
            std::memcpy(data + i, w, 32);
        }
        for (; n - i >= 8; i += 8) {
            std::uint64_t w;
            std::memcpy(&w, data + i, 8);
            w ^= w8;
            std::memcpy(data + i, &w, 8);
        }
    }
    for (; i < n; ++i) data[i] ^= k[(offset + i) & 3];
}

}  // namespace wsgated::ws
