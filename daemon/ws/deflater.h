// deflater: the compressor of the messages wsgated sends with permessage-deflate (RFC 7692
// §7.2.1), on the system zlib. Socket-free: ws/outbound hands it one whole message at a time.
// One per session that negotiated compression (ws/deflate_negotiation), owned by the session,
// used only on its worker.
//
// Memory: nothing until the first message compressed. Then, with context takeover, the zlib
// state stays (a window the client's inflater mirrors: later messages refer back into it): ~6
// KiB + 2^(window_bits+2) + 2^(mem_level+9), 262 KiB at 15/8. With server_no_context_takeover
// it is borrowed from the worker's ws/zlib_cache for the call only: sessions compress one
// message at a time, so a worker needs one such state, not one per connection.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace wsgated::ws {

class zlib_stream;

class deflater {
public:
    // window_bits 9..15 (zlib would silently use 9 for 8: deflate_negotiation never agrees on
    // 8), level 0..9, mem_level 1..9 (the route's compression settings).
    deflater(int window_bits, int level, int mem_level, bool no_context_takeover);
    ~deflater();
    deflater(const deflater&) = delete;
    deflater& operator=(const deflater&) = delete;

    // Compresses one whole message; appends to `out` the deflate bytes with the final
    // 00 00 ff ff removed (RFC 7692 §7.2.1: Z_SYNC_FLUSH, then strip). False only if zlib fails
    // (out of memory): then nothing is appended, and the message may go uncompressed.
    bool compress(std::string_view message, std::string& out);

    // Memory this object holds now beyond itself (0 when it holds no zlib state).
    std::size_t held_bytes() const;

private:
    bool deflate_into(std::string_view message, std::string& out);

    std::unique_ptr<zlib_stream> stream_;
    int window_bits_;
    int level_;
    int mem_level_;
    bool no_context_takeover_;
};

}  // namespace wsgated::ws
