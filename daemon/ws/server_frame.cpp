// server_frame: see server_frame.h.
#include "ws/server_frame.h"

namespace wsgated::ws {

frame_header data_frame_header(bool binary, std::uint64_t n) {
    frame_header h;
    h.bytes[0] = static_cast<unsigned char>(0x80 | (binary ? 0x2 : 0x1));
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

}  // namespace wsgated::ws
