// inflater: the decompressor of a client's permessage-deflate messages (RFC 7692 §7.2.2), on
// the system zlib. Socket-free: ws/frame_reader feeds it each compressed message's payload as it
// arrives, a frame or part of one at a time. One per session that negotiated compression
// (ws/deflate_negotiation), owned by the session, used only on its worker.
//
// Memory: nothing before the client's first compressed message (zlib's state, ~7 KiB + a window
// of 2^window_bits, is made then). Under client_no_context_takeover the state is borrowed from
// the worker's ws/zlib_cache for one message and given back when it ends: an idle connection
// holds none. With context takeover the client asked us to keep its window between messages, so
// it stays from the first compressed message on.
//
// Bombs: the output never grows past the caller's limit (server.limits.max_message_size), and
// is never allocated beyond it either; the inflating stops there (too_big → close 1009).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace wsgated::ws {

class zlib_stream;

class inflater {
public:
    // window_bits: the client's compressor's window, 9..15 (8, which a client may announce, is
    // inflated with 9: a larger window is always safe).
    inflater(int window_bits, bool no_context_takeover);
    ~inflater();
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;

    enum class result { ok, too_big, bad_data };

    // One piece of one compressed message's payload, as it arrives (a frame or part of one).
    // Appends what it inflates to `out`, never letting out.size() exceed `limit` (then too_big,
    // with nothing more appended than the limit). `last`: the message ends with this piece: the
    // 00 00 ff ff tail RFC 7692 §7.2.2 strips is fed after it, and with no_context_takeover the
    // stream is reset (and given back). bad_data: zlib refused it (the connection will close
    // 1007). After too_big or bad_data the object may only be reset() or destroyed.
    result inflate(std::span<const unsigned char> piece, bool last, std::string& out, std::size_t limit);

    // Drops any message in progress and the zlib state with it (given back to the cache). With
    // context takeover, later messages can no longer refer to earlier ones: for a connection
    // that failed or ends.
    void reset();

    // Memory this object holds now beyond itself (0 when it holds no zlib state).
    std::size_t held_bytes() const;

private:
    bool acquire();
    result feed(std::span<const unsigned char> in, std::string& out, std::size_t limit);
    result run(std::string& out, std::size_t limit);
    bool restart_after_final_block();
    void message_ends();

    std::unique_ptr<zlib_stream> stream_;
    int window_bits_;
    bool no_context_takeover_;
    bool in_message_ = false;  // a piece of the current message has reached zlib
};

}  // namespace wsgated::ws
