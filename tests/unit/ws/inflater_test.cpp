// Tests for ws/inflater: RFC 7692 §7.2.2 decompression of a client's messages, against the
// RFC's own examples and zlib's raw deflate as the reference compressor.
#include "ws/inflater.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "ws/zlib_cache.h"

using namespace wsgated;
using result = ws::inflater::result;

namespace {

using bytes = std::vector<unsigned char>;

// A client's compressor: zlib raw deflate, a sync flush per message, 00 00 ff ff stripped.
class reference_deflater {
public:
    explicit reference_deflater(int window_bits, int level = 6) {
        deflateInit2(&z_, level, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY);
    }
    ~reference_deflater() { deflateEnd(&z_); }
    void reset() { deflateReset(&z_); }  // client_no_context_takeover
    bytes compress(const std::string& msg) {
        bytes out(deflateBound(&z_, msg.size()) + 64);
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(msg.data()));
        z_.avail_in = static_cast<uInt>(msg.size());
        z_.next_out = out.data();
        z_.avail_out = static_cast<uInt>(out.size());
        EXPECT_EQ(deflate(&z_, Z_SYNC_FLUSH), Z_OK);
        out.resize(out.size() - z_.avail_out - 4);
        return out;
    }

private:
    z_stream z_{};
};

// Feeds `in` in pieces of `piece` bytes (the last one with last = true).
result inflate_in_pieces(ws::inflater& inf, const bytes& in, std::size_t piece, std::string& out,
                         std::size_t limit = 64 << 20) {
    std::size_t at = 0;
    do {
        std::size_t n = std::min(piece, in.size() - at);
        bool last = at + n == in.size();
        result r = inf.inflate({in.data() + at, n}, last, out, limit);
        if (r != result::ok) return r;
        at += n;
    } while (at < in.size());
    return result::ok;
}

std::string inflated(ws::inflater& inf, const bytes& in) {
    std::string out;
    EXPECT_EQ(inflate_in_pieces(inf, in, in.size() + 1, out), result::ok);
    return out;
}

std::string text_of(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; s.size() < n; ++i) s += "message " + std::to_string(i % 977) + " of the room; ";
    s.resize(n);
    return s;
}

}  // namespace

// RFC 7692 §7.2.3.1: "Hello" in one compressed block, whole and as the 3 + 4 octet fragments.
TEST(inflater, rfc7692_hello_in_one_block) {
    ws::inflater inf(15, false);
    EXPECT_EQ(inflated(inf, {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), "Hello");
    std::string out;
    const bytes first{0xf2, 0x48, 0xcd}, second{0xc9, 0xc9, 0x07, 0x00};
    EXPECT_EQ(inf.inflate(first, false, out, 1000), result::ok);
    EXPECT_EQ(inf.inflate(second, true, out, 1000), result::ok);
    EXPECT_EQ(out, "Hello");
}

// RFC 7692 §7.2.3.2: with context takeover, the second "Hello" refers back into the first.
TEST(inflater, rfc7692_shared_window_example) {
    ws::inflater inf(15, false);
    EXPECT_EQ(inflated(inf, {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), "Hello");
    EXPECT_EQ(inflated(inf, {0xf2, 0x00, 0x11, 0x00, 0x00}), "Hello");
}

// The same back-reference under client_no_context_takeover points before the message's start:
// the window was reset, so zlib refuses it.
TEST(inflater, no_context_takeover_forgets_the_previous_message) {
    ws::inflater inf(15, true);
    EXPECT_EQ(inflated(inf, {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), "Hello");
    std::string out;
    const bytes second{0xf2, 0x00, 0x11, 0x00, 0x00};
    EXPECT_EQ(inf.inflate(second, true, out, 1000), result::bad_data);
}

// RFC 7692 §7.2.3.3: a stored (uncompressed) block.
TEST(inflater, rfc7692_block_with_no_compression) {
    ws::inflater inf(15, false);
    EXPECT_EQ(inflated(inf, {0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}), "Hello");
}

// RFC 7692 §7.2.3.4: a BFINAL block, then the 0x00 octet that makes the tail an empty block.
TEST(inflater, rfc7692_block_with_bfinal_set) {
    ws::inflater inf(15, false);
    EXPECT_EQ(inflated(inf, {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}), "Hello");
    // The window survives the final block: the next message may still refer back into it.
    EXPECT_EQ(inflated(inf, {0xf2, 0x00, 0x11, 0x00, 0x00}), "Hello");
}

// RFC 7692 §7.2.3.5: two blocks in one message.
TEST(inflater, rfc7692_two_blocks) {
    ws::inflater inf(15, false);
    EXPECT_EQ(inflated(inf, {0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}), "Hello");
}

// An empty message: no payload at all, one 0x00 (the header bits of the stripped block), or an
// empty fixed-Huffman block.
TEST(inflater, empty_messages_inflate_to_nothing) {
    for (bool no_ctx : {false, true}) {
        ws::inflater inf(15, no_ctx);
        EXPECT_EQ(inflated(inf, {}), "");
        EXPECT_EQ(inflated(inf, {0x00}), "");
        EXPECT_EQ(inflated(inf, {0x02, 0x00}), "");
        EXPECT_EQ(inflated(inf, {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), "Hello");
    }
}

// ws/frame_reader ends a message with an empty piece when its last frame is an empty
// continuation: the tail still follows the data.
TEST(inflater, an_empty_last_piece_ends_the_message) {
    ws::inflater inf(15, false);
    std::string out;
    const bytes hello{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    EXPECT_EQ(inf.inflate(hello, false, out, 1000), result::ok);
    EXPECT_EQ(inf.inflate({}, true, out, 1000), result::ok);
    EXPECT_EQ(out, "Hello");
    EXPECT_EQ(inflated(inf, {0xf2, 0x00, 0x11, 0x00, 0x00}), "Hello");
}

TEST(inflater, pieces_of_any_size_give_the_same_message) {
    const std::string msg = text_of(100000);
    for (std::size_t piece : {1, 7, 4096}) {
        reference_deflater client(15);
        ws::inflater inf(15, false);
        for (int i = 0; i < 3; ++i) {  // later messages refer back across piece boundaries too
            std::string out;
            ASSERT_EQ(inflate_in_pieces(inf, client.compress(msg), piece, out), result::ok) << piece;
            EXPECT_EQ(out, msg) << piece;
        }
    }
}

TEST(inflater, every_window_from_9_to_15_with_its_client) {
    const std::string msg = text_of(50000);
    for (int w = 9; w <= 15; ++w) {
        reference_deflater client(w);
        ws::inflater inf(w, false);
        for (int i = 0; i < 4; ++i) EXPECT_EQ(inflated(inf, client.compress(msg)), msg) << w;
    }
}

TEST(inflater, a_decompression_bomb_stops_at_the_limit) {
    reference_deflater client(15, 9);
    const bytes bomb = client.compress(std::string(10 << 20, '\0'));
    ASSERT_LT(bomb.size(), 20000u);
    for (std::size_t limit : {std::size_t{1} << 20, std::size_t{600} << 10}) {
        ws::inflater inf(15, false);
        std::string out;
        EXPECT_EQ(inf.inflate(bomb, true, out, limit), result::too_big);
        EXPECT_LE(out.size(), limit);
        // Not even allocated beyond it (plain doubling would reach 1 MiB for the 600 KiB limit).
        EXPECT_LE(out.capacity(), limit + 64);
    }
}

TEST(inflater, a_tiny_limit_is_not_rounded_up_either) {
    reference_deflater client(15);
    const bytes z = client.compress(std::string(1000, 'a'));
    ws::inflater inf(15, false);
    std::string out;
    EXPECT_EQ(inf.inflate(z, true, out, 20), result::too_big);
    EXPECT_EQ(out, std::string(20, 'a'));
    EXPECT_LE(out.capacity(), 20u);
}

TEST(inflater, the_limit_counts_what_the_output_held_before) {
    reference_deflater client(15);
    const bytes z = client.compress(std::string(1000, 'a'));
    ws::inflater inf(15, false);
    std::string out(500, 'x');  // the message so far, as ws/frame_reader keeps it
    EXPECT_EQ(inf.inflate(z, true, out, 1499), result::too_big);
    EXPECT_LE(out.size(), 1499u);
}

TEST(inflater, a_message_of_exactly_the_limit_fits) {
    reference_deflater client(15);
    const std::string msg = text_of(5000);
    const bytes z = client.compress(msg);
    ws::inflater exact(15, false), under(15, false);
    std::string out;
    EXPECT_EQ(inflate_in_pieces(exact, z, 7, out, msg.size()), result::ok);
    EXPECT_EQ(out, msg);
    out.clear();
    EXPECT_EQ(inflate_in_pieces(under, z, 7, out, msg.size() - 1), result::too_big);
    EXPECT_EQ(out.size(), msg.size() - 1);
}

TEST(inflater, garbage_is_bad_data) {
    ws::inflater inf(15, false);
    std::string out;
    const bytes reserved_block_type{0xff, 0xff, 0xff};  // BTYPE 11 does not exist
    EXPECT_EQ(inf.inflate(reserved_block_type, false, out, 1000), result::bad_data);
    ws::inflater bad_lengths(15, true);
    const bytes stored{0x00, 0x05, 0x00, 0x05, 0x00, 'H'};  // NLEN is not ~LEN
    EXPECT_EQ(bad_lengths.inflate(stored, true, out, 1000), result::bad_data);
}

TEST(inflater, data_after_a_final_block_that_is_not_deflate_is_bad_data) {
    ws::inflater inf(15, false);
    std::string out;
    const bytes z{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xff};
    EXPECT_EQ(inf.inflate(z, true, out, 1000), result::bad_data);
    EXPECT_EQ(out, "Hello");
}

// A message cut inside a block: zlib reads the tail as more of that block and finds nothing
// wrong (its bytes are whatever they decode to). Only what zlib rejects is an error.
TEST(inflater, a_truncated_message_is_not_an_error_by_itself) {
    ws::inflater inf(15, true);
    std::string out;
    const bytes cut{0xf2, 0x48, 0xcd};
    EXPECT_EQ(inf.inflate(cut, true, out, 1000), result::ok);
    EXPECT_EQ(out.substr(0, 2), "He");
}

TEST(inflater, holds_nothing_before_the_first_compressed_message) {
    ws::inflater inf(15, false);
    EXPECT_EQ(inf.held_bytes(), 0u);
    std::string out;
    EXPECT_EQ(inf.inflate({}, false, out, 1000), result::ok);  // an empty first frame
    EXPECT_EQ(inf.held_bytes(), 0u);
}

TEST(inflater, context_takeover_keeps_the_window_after_a_message) {
    ws::inflater inf(15, false);
    inflated(inf, {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
    EXPECT_GT(inf.held_bytes(), std::size_t{1} << 15);  // the state and its 32 KiB window
}

TEST(inflater, no_context_takeover_holds_nothing_between_messages) {
    ws::inflater inf(15, true);
    std::string out;
    const bytes first{0xf2, 0x48, 0xcd}, second{0xc9, 0xc9, 0x07, 0x00};
    EXPECT_EQ(inf.inflate(first, false, out, 1000), result::ok);
    EXPECT_GT(inf.held_bytes(), 0u);  // mid-message: the borrowed stream
    EXPECT_EQ(inf.inflate(second, true, out, 1000), result::ok);
    EXPECT_EQ(inf.held_bytes(), 0u);
    EXPECT_EQ(out, "Hello");
}

TEST(inflater, reset_drops_the_message_in_progress) {
    ws::inflater inf(15, false);
    std::string out;
    const bytes first{0xf2, 0x48, 0xcd};
    EXPECT_EQ(inf.inflate(first, false, out, 1000), result::ok);
    inf.reset();
    EXPECT_EQ(inf.held_bytes(), 0u);
    EXPECT_EQ(inflated(inf, {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), "Hello");  // starts afresh
}

TEST(inflater, large_random_and_repetitive_messages) {
    std::mt19937 rng(7);
    std::string random_bytes(1 << 20, '\0');
    for (auto& c : random_bytes) c = static_cast<char>(rng());
    const std::string& random = random_bytes;
    const std::string repetitive = text_of(1 << 20);
    for (bool no_ctx : {false, true}) {
        reference_deflater client(15);
        ws::inflater inf(15, no_ctx);
        for (const std::string* msg : {&random, &repetitive, &random, &repetitive}) {
            if (no_ctx) client.reset();
            EXPECT_TRUE(inflated(inf, client.compress(*msg)) == *msg) << no_ctx;
        }
    }
}
