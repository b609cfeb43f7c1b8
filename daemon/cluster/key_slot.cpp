// key_slot: see key_slot.h.
#include "cluster/key_slot.h"

#include <array>

namespace wsgated::cluster {
namespace {

// CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection; one table lookup per byte.
constexpr std::array<std::uint16_t, 256> make_table() {
    std::array<std::uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
        for (int bit = 0; bit < 8; ++bit)
            crc = static_cast<std::uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
        t[i] = crc;
    }
    return t;
}

constexpr auto table = make_table();

}  // namespace

std::uint16_t crc16_xmodem(std::string_view bytes) {
    std::uint16_t crc = 0;
    for (unsigned char c : bytes) crc = static_cast<std::uint16_t>((crc << 8) ^ table[((crc >> 8) ^ c) & 0xFF]);
    return crc;
}

std::uint16_t key_slot(std::string_view key) {
    if (auto open = key.find('{'); open != std::string_view::npos) {
        auto close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
    }
    return crc16_xmodem(key) % slot_count;
}

}  // namespace wsgated::cluster
