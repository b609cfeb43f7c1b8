#include "frames.h"

#include <zlib.h>

#include <cstring>
#include <random>

namespace wsbench {

std::vector<std::uint8_t> make_filler(std::size_t n) {
    static const char* const words[] = {
        "the", "room", "user", "message", "hello", "world", "gateway", "socket", "event",
        "typing", "presence", "update", "chat", "lobby", "ping", "status", "online", "away",
        "text", "reply", "thread", "channel", "notify", "count", "value", "true", "false",
        "id", "time", "data", "type", "name"};
    std::mt19937 rng(12345);  // fixed: every run sends the same bytes
    std::vector<std::uint8_t> out;
    out.reserve(n + 16);
    while (out.size() < n) {
        const char* w = words[rng() % (sizeof words / sizeof *words)];
        out.insert(out.end(), w, w + std::strlen(w));
        out.push_back(rng() % 7 == 0 ? ',' : ' ');
    }
    out.resize(n);
    return out;
}

frame_template make_frame(std::uint8_t first_byte, const std::vector<std::uint8_t>& payload,
                          std::size_t stamp_at) {
    frame_template t;
    std::mt19937 rng(std::random_device{}());
    for (auto& m : t.mask) m = std::uint8_t(rng());
    auto& b = t.bytes;
    std::size_t n = payload.size();
    b.push_back(first_byte);
    if (n < 126) {
        b.push_back(std::uint8_t(0x80 | n));
    } else if (n < 65536) {
        b.push_back(0x80 | 126);
        b.push_back(std::uint8_t(n >> 8));
        b.push_back(std::uint8_t(n));
    } else {
        b.push_back(0x80 | 127);
        for (int s = 56; s >= 0; s -= 8) b.push_back(std::uint8_t(std::uint64_t(n) >> s));
    }
    b.insert(b.end(), t.mask, t.mask + 4);
    t.payload_at = b.size();
    t.stamp_at = stamp_at;
    for (std::size_t i = 0; i < n; ++i) b.push_back(payload[i] ^ t.mask[i & 3]);
    return t;
}

std::vector<std::uint8_t> deflate_with_stamp_block(const std::vector<std::uint8_t>& payload,
                                                   std::size_t stamp_len, std::size_t& stamp_at) {
    // Stored block: BFINAL=0 BTYPE=00 (padded to a byte), LEN, NLEN, the bytes (RFC 1951 3.2.4).
    std::vector<std::uint8_t> out = {0x00, std::uint8_t(stamp_len), std::uint8_t(stamp_len >> 8),
                                     std::uint8_t(~stamp_len), std::uint8_t(~stamp_len >> 8)};
    stamp_at = out.size();
    out.insert(out.end(), payload.begin(), payload.begin() + std::ptrdiff_t(stamp_len));
    z_stream z{};
    if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
    std::vector<std::uint8_t> rest(deflateBound(&z, payload.size()) + 16);
    z.next_in = const_cast<std::uint8_t*>(payload.data() + stamp_len);
    z.avail_in = unsigned(payload.size() - stamp_len);
    z.next_out = rest.data();
    z.avail_out = unsigned(rest.size());
    int rc = deflate(&z, Z_SYNC_FLUSH);
    std::size_t produced = rest.size() - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_OK || z.avail_in != 0 || produced < 4) return {};
    out.insert(out.end(), rest.begin(), rest.begin() + std::ptrdiff_t(produced - 4));  // drop 00 00 FF FF
    return out;
}

std::vector<std::uint8_t> close_frame(std::uint16_t code) {
    // Mask key 0: a valid mask that leaves the bytes as they are.
    return {0x88, 0x82, 0, 0, 0, 0, std::uint8_t(code >> 8), std::uint8_t(code)};
}

void append_pong(std::vector<std::uint8_t>& out, const std::uint8_t* data, std::size_t n) {
    if (n > 125) n = 125;
    const std::uint8_t head[] = {0x8A, std::uint8_t(0x80 | n), 0, 0, 0, 0};
    out.insert(out.end(), head, head + sizeof head);
    out.insert(out.end(), data, data + n);
}

}  // namespace wsbench
