// Tests for ws/deflater: RFC 7692 §7.2.1 compression of the messages we send, read back by
// ws/inflater and by zlib's own raw inflate (what a client runs).
#include "ws/deflater.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "ws/inflater.h"

using namespace wsgated;
using result = ws::inflater::result;

namespace {

using bytes = std::vector<unsigned char>;

bytes bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// A client's decompressor: zlib raw inflate with exactly the agreed window, 00 00 ff ff
// appended to each message, reset per message under server_no_context_takeover.
class reference_inflater {
public:
    explicit reference_inflater(int window_bits) { inflateInit2(&z_, -window_bits); }
    ~reference_inflater() { inflateEnd(&z_); }
    void reset() { inflateReset(&z_); }
    std::string inflate(std::string payload) {
        payload.append("\x00\x00\xff\xff", 4);
        std::string out;
        z_.next_in = reinterpret_cast<Bytef*>(payload.data());
        z_.avail_in = static_cast<uInt>(payload.size());
        unsigned char buf[4096];
        do {
            z_.next_out = buf;
            z_.avail_out = sizeof buf;
            int rc = ::inflate(&z_, Z_SYNC_FLUSH);
            EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR) << rc;
            if (rc != Z_OK && rc != Z_BUF_ERROR) return "<error>";
            out.append(reinterpret_cast<char*>(buf), sizeof buf - z_.avail_out);
        } while (z_.avail_in > 0 || z_.avail_out == 0);
        return out;
    }

private:
    z_stream z_{};
};

std::string compressed(ws::deflater& d, std::string_view msg) {
    std::string z;
    EXPECT_TRUE(d.compress(msg, z));
    return z;
}

std::string inflated(ws::inflater& inf, const std::string& z, std::size_t piece) {
    const bytes in = bytes_of(z);
    std::string out;
    std::size_t at = 0;
    do {
        std::size_t n = std::min(piece, in.size() - at);
        EXPECT_EQ(inf.inflate({in.data() + at, n}, at + n == in.size(), out, 64 << 20), result::ok);
        at += n;
    } while (at < in.size());
    return out;
}

// JSON-like text with random numbers in it: compresses some 2-3x on its own, so that a repeat
// made of back-references stands out.
std::string text_of(std::size_t n) {
    std::mt19937 rng(1);
    std::string s;
    while (s.size() < n) s += "{\"room\":\"lobby\",\"user\":" + std::to_string(rng() % 100000) + ",\"at\":" + std::to_string(rng()) + "},";
    s.resize(n);
    return s;
}

std::string repetitive_of(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; s.size() < n; ++i) s += "{\"room\":\"lobby\",\"seq\":" + std::to_string(i % 100) + "},";
    s.resize(n);
    return s;
}

std::string random_of(std::size_t n) {
    std::mt19937 rng(42);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

}  // namespace

// RFC 7692 §7.2.3.1 and §7.2.3.2: zlib's fixed-Huffman "Hello" is the RFC's, and the second
// one refers back into the first only with context takeover.
TEST(deflater, rfc7692_hello_bytes) {
    const std::string first("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
    ws::deflater shared(15, 6, 8, false), fresh(15, 6, 8, true);
    EXPECT_EQ(compressed(shared, "Hello"), first);
    EXPECT_EQ(compressed(shared, "Hello"), std::string("\xf2\x00\x11\x00\x00", 5));
    EXPECT_EQ(compressed(fresh, "Hello"), first);
    EXPECT_EQ(compressed(fresh, "Hello"), first);
}

TEST(deflater, appends_to_what_out_holds) {
    ws::deflater d(15, 6, 8, false);
    std::string out = "header";
    ASSERT_TRUE(d.compress("Hello", out));
    EXPECT_EQ(out, std::string("header\xf2\x48\xcd\xc9\xc9\x07\x00", 13));
}

// Every window, with and without context takeover, many messages in a row, read back by our
// inflater and by zlib with exactly the agreed window (a back-reference beyond it fails there).
TEST(deflater, round_trips_for_every_window) {
    const std::string msg = text_of(20000);
    for (int w = 9; w <= 15; ++w)
        for (bool no_ctx : {false, true}) {
            ws::deflater d(w, 6, 8, no_ctx);
            ws::inflater inf(w, no_ctx);
            reference_inflater client(w);
            std::vector<std::size_t> sizes;
            for (int i = 0; i < 10; ++i) {
                std::string z = compressed(d, msg);
                sizes.push_back(z.size());
                if (no_ctx) client.reset();
                EXPECT_EQ(client.inflate(z), msg) << w << no_ctx << i;
                EXPECT_EQ(inflated(inf, z, z.size()), msg) << w << no_ctx << i;
            }
            if (no_ctx) EXPECT_EQ(sizes[1], sizes[0]) << w;
            // 20 kB of text fits the 32 KiB window: the second copy is all back-references.
            else if (w == 15) EXPECT_LT(sizes[1] * 10, sizes[0]);
            else EXPECT_LE(sizes[1], sizes[0]) << w;
        }
}

TEST(deflater, context_takeover_makes_a_repeated_message_much_smaller) {
    const std::string msg = text_of(2000);
    for (int w = 12; w <= 15; ++w) {
        ws::deflater shared(w, 6, 8, false), fresh(w, 6, 8, true);
        std::size_t first = compressed(shared, msg).size();
        EXPECT_EQ(compressed(fresh, msg).size(), first);
        EXPECT_LT(compressed(shared, msg).size() * 10, first) << w;
        EXPECT_EQ(compressed(fresh, msg).size(), first) << w;
    }
}

TEST(deflater, the_inflater_reads_it_in_pieces_of_any_size) {
    const std::string msg = text_of(100000);
    for (std::size_t piece : {1, 7, 4096}) {
        ws::deflater d(15, 6, 8, false);
        ws::inflater inf(15, false);
        for (int i = 0; i < 3; ++i) EXPECT_EQ(inflated(inf, compressed(d, msg), piece), msg) << piece;
    }
}

// RFC 7692 §7.2.1 gives an empty message one 0x00 octet; zlib gives it on a fresh stream but
// nothing after another flush, so both cases are checked, and that the stream goes on.
TEST(deflater, an_empty_message_is_one_zero_octet) {
    for (bool no_ctx : {false, true}) {
        ws::deflater d(15, 6, 8, no_ctx);
        ws::inflater inf(15, no_ctx);
        reference_inflater client(15);
        for (std::string_view msg : {"", "Hello", "", "", "Hello"}) {
            std::string z = compressed(d, msg);
            if (msg.empty()) {
                EXPECT_EQ(z, std::string(1, '\0'));
            }
            if (no_ctx) client.reset();
            EXPECT_EQ(client.inflate(z), msg);
            EXPECT_EQ(inflated(inf, z, 1), msg);
        }
    }
}

TEST(deflater, large_random_and_repetitive_messages) {
    const std::string random = random_of(1 << 20), repetitive = repetitive_of(1 << 20);
    for (bool no_ctx : {false, true}) {
        ws::deflater d(15, 6, 8, no_ctx);
        ws::inflater inf(15, no_ctx);
        for (const std::string* msg : {&random, &repetitive, &random}) {
            std::string z = compressed(d, *msg);
            if (msg == &repetitive) EXPECT_LT(z.size(), msg->size() / 10);
            else EXPECT_LT(z.size(), msg->size() + msg->size() / 100);  // stored blocks: little overhead
            EXPECT_TRUE(inflated(inf, z, 65536) == *msg);
        }
    }
}

TEST(deflater, every_level_and_mem_level_round_trips) {
    const std::string msg = text_of(30000);
    for (int level = 0; level <= 9; ++level)
        for (int mem_level : {1, 8, 9}) {
            ws::deflater d(15, level, mem_level, false);
            reference_inflater client(15);
            for (int i = 0; i < 3; ++i) EXPECT_EQ(client.inflate(compressed(d, msg)), msg) << level << mem_level;
        }
}

TEST(deflater, holds_nothing_before_the_first_message) {
    ws::deflater d(15, 6, 8, false);
    EXPECT_EQ(d.held_bytes(), 0u);
    compressed(d, "");  // an empty message needs no zlib state either
    EXPECT_EQ(d.held_bytes(), 0u);
}

TEST(deflater, context_takeover_keeps_its_state_after_a_message) {
    ws::deflater d(15, 6, 8, false);
    compressed(d, "Hello");
    EXPECT_GT(d.held_bytes(), std::size_t{256} << 10);
}

TEST(deflater, no_context_takeover_holds_nothing_between_messages) {
    ws::deflater d(15, 6, 8, true);
    compressed(d, "Hello");
    EXPECT_EQ(d.held_bytes(), 0u);
}
