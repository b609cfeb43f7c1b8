// deflater: see deflater.h.
#include "ws/deflater.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <boost/assert.hpp>

#include "ws/zlib_cache.h"

namespace wsgated::ws {
namespace {

// The empty stored block a sync flush ends with, which RFC 7692 §7.2.1 has the sender strip.
constexpr char sync_tail[4] = {0x00, 0x00, char(0xff), char(0xff)};

// deflateBound() covers Z_FINISH; a sync flush adds an empty stored block (the 3 header bits,
// the byte alignment and 4 length bytes) to the data.
constexpr std::size_t flush_margin = 16;

bool ends_with_sync_tail(const std::string& out, std::size_t from) {
    return out.size() - from >= sizeof sync_tail &&
           std::memcmp(out.data() + out.size() - sizeof sync_tail, sync_tail, sizeof sync_tail) == 0;
}

// Leaves `out` as it was before this message.
bool undo(std::string& out, std::size_t at) {
    out.resize(at);
    return false;
}

}  // namespace

deflater::deflater(int window_bits, int level, int mem_level, bool no_context_takeover)
    : window_bits_(window_bits), level_(level), mem_level_(mem_level), no_context_takeover_(no_context_takeover) {
    BOOST_ASSERT_MSG(window_bits >= 9 && window_bits <= 15, "zlib compresses raw deflate with 9..15 bits only");
    BOOST_ASSERT_MSG(level >= 0 && level <= 9 && mem_level >= 1 && mem_level <= 9, "checked by the loader");
}

// The stream of a connection that ends goes back to the worker's cache for the next one.
deflater::~deflater() { zlib_cache::give_back(std::move(stream_)); }

std::size_t deflater::held_bytes() const { return stream_ ? stream_->held_bytes() : 0; }

bool deflater::compress(std::string_view message, std::string& out) {
    // RFC 7692 §7.2.1 on an empty message: no data, then the empty stored block, stripped: one
    // 0x00 octet (its header bits). zlib gives just that on a fresh stream, but nothing at all
    // (Z_BUF_ERROR) right after another flush, so it is written here, the stream left as it is.
    if (message.empty()) {
        out.push_back('\0');
        return true;
    }
    if (!stream_) stream_ = zlib_cache::take({true, window_bits_, level_, mem_level_});
    if (!stream_) return false;
    bool ok = deflate_into(message, out);
    // After a failure the client's inflater never sees what this stream took in, so the stream
    // goes: the next message starts afresh, which any inflater reads (it refers back to nothing).
    if (!ok || no_context_takeover_) zlib_cache::give_back(std::move(stream_));
    return ok;
}

// One deflate() call in the usual case: `out` is sized from deflateBound first. The resize
// zero-fills that room once, which costs far less than compressing it.
bool deflater::deflate_into(std::string_view message, std::string& out) {
    z_stream& z = stream_->z();
    const std::size_t at = out.size();
    out.resize(at + deflateBound(&z, message.size()) + flush_margin);
    std::size_t written = 0;
    constexpr std::size_t slice = std::numeric_limits<uInt>::max() / 2;  // zlib counts in uInt
    for (;;) {
        std::size_t n = std::min(message.size(), slice);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
        z.avail_in = static_cast<uInt>(n);
        bool final_slice = n == message.size();
        for (;;) {
            std::size_t room = std::min(out.size() - at - written, slice);
            z.next_out = reinterpret_cast<Bytef*>(out.data() + at + written);
            z.avail_out = static_cast<uInt>(room);
            int rc = ::deflate(&z, final_slice ? Z_SYNC_FLUSH : Z_NO_FLUSH);
            written += room - z.avail_out;
            if (rc != Z_OK && rc != Z_BUF_ERROR) return undo(out, at);
            if (z.avail_out != 0) break;  // all in, all flushed
            out.resize(out.size() + out.size() / 2);  // beyond the bound: not expected, but safe
        }
        message.remove_prefix(n);
        if (final_slice) break;
    }
    out.resize(at + written);
    if (!ends_with_sync_tail(out, at)) return undo(out, at);  // zlib ends every sync flush so
    out.resize(out.size() - sizeof sync_tail);
    return true;
}

}  // namespace wsgated::ws
