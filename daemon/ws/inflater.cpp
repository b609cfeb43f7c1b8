// inflater: see inflater.h.
#include "ws/inflater.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <boost/assert.hpp>

#include "ws/zlib_cache.h"

namespace wsgated::ws {
namespace {

// What RFC 7692 §7.2.1 has the sender strip from each message: an empty stored block, which
// also makes zlib hand out everything the message's last block decoded.
constexpr unsigned char stripped_tail[4] = {0x00, 0x00, 0xff, 0xff};

// Output is inflated into a stack buffer this big and appended: only the bytes produced are
// copied (a resize() of `out` would first zero-fill a whole chunk for a 20-byte message).
constexpr std::size_t chunk = 16 * 1024;

// Capacity for `n` more bytes (out.size() + n <= limit), never beyond `limit`. The usual
// doubling would let a message just over half the limit allocate twice the limit, and
// libstdc++'s reserve() rounds a request up to twice the old capacity, so near the limit the
// string is rebuilt at exactly the limit (a sized constructor allocates just that; its
// zero-fill happens once per message, and only for one over half the limit).
void make_room(std::string& out, std::size_t n, std::size_t limit) {
    std::size_t need = out.size() + n;
    if (need <= out.capacity()) return;
    std::size_t want = std::max(need, 2 * out.capacity());
    if (want <= limit) return out.reserve(want);
    std::string exact(limit, '\0');
    std::memcpy(exact.data(), out.data(), out.size());
    exact.resize(out.size());
    out.swap(exact);
}

}  // namespace

inflater::inflater(int window_bits, bool no_context_takeover)
    : window_bits_(std::max(9, window_bits)), no_context_takeover_(no_context_takeover) {
    BOOST_ASSERT_MSG(window_bits >= 8 && window_bits <= 15, "window bits come from deflate_negotiation");
}

// A connection that ends mid-message or with context takeover still gives its stream back: the
// next connection on this worker takes it instead of allocating.
inflater::~inflater() { zlib_cache::give_back(std::move(stream_)); }

void inflater::reset() {
    in_message_ = false;
    zlib_cache::give_back(std::move(stream_));
}

std::size_t inflater::held_bytes() const { return stream_ ? stream_->held_bytes() : 0; }

bool inflater::acquire() {
    stream_ = zlib_cache::take({false, window_bits_, 0, 0});
    return stream_ != nullptr;
}

inflater::result inflater::inflate(std::span<const unsigned char> piece, bool last, std::string& out,
                                   std::size_t limit) {
    if (piece.empty() && !(last && in_message_)) {  // nothing to inflate; no state made for it
        if (last) message_ends();                  // an empty message (see message_ends)
        return result::ok;
    }
    // zlib failing to allocate its state is not the client's fault, but the message cannot be
    // read either: the connection fails as it would on data we cannot inflate.
    if (!stream_ && !acquire()) return result::bad_data;
    in_message_ = true;
    result r = feed(piece, out, limit);
    if (r == result::ok && last) r = feed(stripped_tail, out, limit);
    if (r == result::ok && last) message_ends();
    return r;
}

// zlib counts input in uInt: a larger piece goes in slices.
inflater::result inflater::feed(std::span<const unsigned char> in, std::string& out, std::size_t limit) {
    constexpr std::size_t slice = std::numeric_limits<uInt>::max() / 2;
    do {
        std::size_t n = std::min(in.size(), slice);
        z_stream& z = stream_->z();
        z.next_in = const_cast<Bytef*>(in.data());  // zlib only reads it (ZLIB_CONST aside)
        z.avail_in = static_cast<uInt>(n);
        if (result r = run(out, limit); r != result::ok) return r;
        in = in.subspan(n);
    } while (!in.empty());
    return result::ok;
}

// Inflates all the input set in the stream, appending to `out` within `limit`.
inflater::result inflater::run(std::string& out, std::size_t limit) {
    z_stream& z = stream_->z();
    unsigned char buf[chunk];
    for (;;) {
        std::size_t room = limit > out.size() ? limit - out.size() : 0;
        // With no room left, asking for one byte tells whether the message goes on.
        std::size_t ask = std::clamp<std::size_t>(room, 1, chunk);
        z.next_out = buf;
        z.avail_out = static_cast<uInt>(ask);
        int rc = ::inflate(&z, Z_SYNC_FLUSH);
        std::size_t got = ask - z.avail_out;
        if (got > room) return result::too_big;
        if (got > 0) {
            make_room(out, got, limit);
            out.append(reinterpret_cast<const char*>(buf), got);
        }
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0) return result::ok;
            if (!restart_after_final_block()) return result::bad_data;
            continue;
        }
        if (rc == Z_BUF_ERROR) return result::ok;  // no progress possible: it needs the next piece
        if (rc != Z_OK) return result::bad_data;   // Z_DATA_ERROR; Z_MEM_ERROR (see inflate())
        if (z.avail_in == 0 && z.avail_out != 0) return result::ok;  // all in, all out
    }
}

// RFC 7692 §7.2.3.4: a sender without a sync flush may end a message's data with a BFINAL
// block, then a 0x00 octet so that the 00 00 ff ff tail still reads as an empty stored block.
// zlib stops at the final block; what follows is read as a new deflate stream that keeps the
// window (its back-references may reach the bytes before). Bytes that are not deflate data
// then fail as zlib says.
bool inflater::restart_after_final_block() {
    z_stream& z = stream_->z();
    unsigned char window[1 << 15];  // 32 KiB of stack on a path no common client takes
    uInt n = 0;
    if (inflateGetDictionary(&z, window, &n) != Z_OK || inflateReset(&z) != Z_OK) return false;
    return n == 0 || inflateSetDictionary(&z, window, n) == Z_OK;
}

// A message with no payload at all is empty, and zlib is not asked: the tail alone would open
// a stored block of 0xff00 bytes that swallows the next message (a client whose compressor had
// nothing to flush sends such messages; RFC 7692 §7.2.1 would have it send 0x00).
// With client_no_context_takeover the next message starts from an empty window, so the stream
// goes back to the worker's cache until then.
void inflater::message_ends() {
    in_message_ = false;
    if (no_context_takeover_) zlib_cache::give_back(std::move(stream_));
}

}  // namespace wsgated::ws
