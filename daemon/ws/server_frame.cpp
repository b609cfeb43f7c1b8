// server_frame: see server_frame.h.
#include "ws/server_frame.h"

#include <algorithm>
#include <cstring>

namespace wsgated::ws {
namespace {

control_frame control(unsigned char opcode, std::string_view head, std::string_view payload) {
    control_frame f;
    std::size_t n = std::min<std::size_t>(head.size() + payload.size(), 125);
    f.bytes[0] = static_cast<unsigned char>(0x80 | opcode);
    f.bytes[1] = static_cast<unsigned char>(n);
    if (!head.empty()) std::memcpy(f.bytes.data() + 2, head.data(), head.size());
    if (n > head.size()) std::memcpy(f.bytes.data() + 2 + head.size(), payload.data(), n - head.size());
    f.size = 2 + n;
    return f;
}

// The longest prefix of `s` within `max` bytes that does not cut a UTF-8 sequence.
std::string_view cut_utf8(std::string_view s, std::size_t max) {
    if (s.size() <= max) return s;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

}  // namespace

frame_header data_frame_header(bool binary, std::uint64_t n, bool compressed) {
    frame_header h;
    h.bytes[0] = static_cast<unsigned char>(0x80 | (compressed ? 0x40 : 0) | (binary ? 0x2 : 0x1));
    if (n < 126) {
        h.bytes[1] = static_cast<unsigned char>(n);
        h.size = 2;
    } else if (n <= 0xFFFF) {
        h.bytes[1] = 126;
        h.bytes[2] = static_cast<unsigned char>(n >> 8);
        h.bytes[3] = static_cast<unsigned char>(n);
        h.size = 4;
    } else {
        h.bytes[1] = 127;
        for (int i = 0; i < 8; ++i) h.bytes[2 + i] = static_cast<unsigned char>(n >> (56 - 8 * i));
        h.size = 10;
    }
    return h;
}

control_frame ping_frame(std::string_view payload) { return control(0x9, {}, payload); }
control_frame pong_frame(std::string_view payload) { return control(0xA, {}, payload); }

control_frame close_frame(std::uint16_t code, std::string_view reason) {
    if (code == 1005) return control(0x8, {}, {});
    const char head[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    return control(0x8, {head, 2}, cut_utf8(reason, 123));
}

}  // namespace wsgated::ws
