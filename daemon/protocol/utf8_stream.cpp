// utf8_stream: see utf8_stream.h.
#include "protocol/utf8_stream.h"

#include <cstring>

namespace wsgated::protocol {
namespace {

// The sequence a lead byte starts: how many continuation bytes, and the second byte's range.
// False for a byte no sequence starts with (80-C1, F5-FF).
bool lead(unsigned c, std::uint8_t& need, std::uint8_t& lo, std::uint8_t& hi) {
    lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) need = 2, lo = 0xA0;
    else if (c == 0xED) need = 2, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) need = 2;
    else if (c == 0xF0) need = 3, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) need = 3, hi = 0x8F;
    else return false;
    return true;
}

}  // namespace

bool utf8_stream::feed(std::string_view piece) {
    const auto* p = reinterpret_cast<const unsigned char*>(piece.data());
    const auto* end = p + piece.size();
    while (p < end) {
        if (need_) {
            if (*p < lo_ || *p > hi_) return false;
            ++p, --need_, lo_ = 0x80, hi_ = 0xBF;
            continue;
        }
        // Text is mostly ASCII: eight bytes at a time while no high bit is set.
        while (end - p >= 8) {
            std::uint64_t w;
            std::memcpy(&w, p, 8);
            if (w & 0x8080808080808080ull) break;
            p += 8;
        }
        if (p == end) break;
        unsigned c = *p++;
        if (c < 0x80) continue;
        if (!lead(c, need_, lo_, hi_)) return false;
    }
    return true;
}

}  // namespace wsgated::protocol
