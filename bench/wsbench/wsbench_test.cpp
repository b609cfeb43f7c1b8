// Unit tests for wsbench's parsing and precomputed bytes: what must hold for the e2e smoke
// (tests/e2e/test_wsbench.py) to mean anything — frames and HTTP answers split at any byte,
// the permessage-deflate stamp block, the upgrade check, histogram quantiles.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <string>
#include <vector>

#include "frame_reader.h"
#include "frames.h"
#include "handshake.h"
#include "histogram.h"
#include "http_reader.h"

using namespace wsbench;

namespace {

struct collect_sink {
    std::vector<std::uint8_t> data;
    int begins = 0, ends = 0, controls = 0;
    bool on_message_begin(std::uint8_t, bool) { return ++begins, true; }
    void on_message_data(std::uint8_t* p, std::size_t n) { data.insert(data.end(), p, p + n); }
    void on_message_end() { ++ends; }
    void on_control(std::uint8_t, std::uint8_t*, std::size_t) { ++controls; }
};

bool feed_in_chunks(frame_reader& rd, std::vector<std::uint8_t> bytes, std::size_t chunk, collect_sink& s) {
    for (std::size_t i = 0; i < bytes.size(); i += chunk)
        if (!rd.feed(bytes.data() + i, std::min(chunk, bytes.size() - i), s)) return false;
    return true;
}

}  // namespace

TEST(frame_reader, our_masked_frames_come_back_whole_at_any_split_and_length) {
    for (std::size_t size : {0, 5, 125, 126, 65535, 65536, 70000}) {
        auto payload = make_filler(size);
        auto f = make_frame(0x82, payload, 0);
        std::vector<std::uint8_t> stream;
        for (int i = 0; i < 3; ++i) stream.insert(stream.end(), f.bytes.begin(), f.bytes.end());
        stream.insert(stream.end(), {0x89, 0x02, 'h', 'i'});  // a ping between
        for (std::size_t chunk : {1, 3, 7, 1000, 1 << 20}) {
            frame_reader rd(true);
            collect_sink s;
            ASSERT_TRUE(feed_in_chunks(rd, stream, chunk, s)) << size << " / " << chunk;
            std::vector<std::uint8_t> want;
            for (int i = 0; i < 3; ++i) want.insert(want.end(), payload.begin(), payload.end());
            EXPECT_EQ(s.data, want) << size << " / " << chunk;
            EXPECT_EQ(s.ends, 3);
            EXPECT_EQ(s.controls, 1);
        }
    }
}

TEST(frame_reader, a_masked_frame_from_a_websocket_server_is_a_protocol_error) {
    auto f = make_frame(0x82, make_filler(10), 0);
    frame_reader rd(false);
    collect_sink s;
    EXPECT_FALSE(rd.feed(f.bytes.data(), f.bytes.size(), s));
}

TEST(frame_reader, fragments_make_one_message_with_a_control_frame_between) {
    std::vector<std::uint8_t> m = {0x02, 0x02, 'a', 'b', 0x89, 0x00, 0x80, 0x01, 'c'};
    frame_reader rd;
    collect_sink s;
    ASSERT_TRUE(rd.feed(m.data(), m.size(), s));
    EXPECT_EQ(std::string(s.data.begin(), s.data.end()), "abc");
    EXPECT_EQ(s.ends, 1);
    EXPECT_EQ(s.controls, 1);
}

TEST(frame_reader, reserved_bits_and_orphan_continuations_are_protocol_errors) {
    for (std::vector<std::uint8_t> m : {std::vector<std::uint8_t>{0xA2, 0x00}, {0x80, 0x00}}) {
        frame_reader rd;
        collect_sink s;
        EXPECT_FALSE(rd.feed(m.data(), m.size(), s));
    }
}

TEST(frames, the_deflate_stamp_block_inflates_to_the_stamped_payload) {
    std::vector<std::uint8_t> payload(8, 0);
    auto filler = make_filler(1024 - 8);
    payload.insert(payload.end(), filler.begin(), filler.end());
    std::size_t stamp_at = 0;
    auto body = deflate_with_stamp_block(payload, 8, stamp_at);
    ASSERT_FALSE(body.empty());
    EXPECT_LT(body.size(), payload.size() / 2);
    std::memcpy(body.data() + stamp_at, "STAMP-42", 8);
    std::memcpy(payload.data(), "STAMP-42", 8);
    body.insert(body.end(), {0x00, 0x00, 0xFF, 0xFF});
    z_stream z{};
    ASSERT_EQ(inflateInit2(&z, -15), Z_OK);
    std::vector<std::uint8_t> out(4096);
    z.next_in = body.data();
    z.avail_in = unsigned(body.size());
    z.next_out = out.data();
    z.avail_out = unsigned(out.size());
    EXPECT_EQ(inflate(&z, Z_SYNC_FLUSH), Z_OK);
    out.resize(out.size() - z.avail_out);
    inflateEnd(&z);
    EXPECT_EQ(out, payload);
}

TEST(http_reader, answers_by_length_and_chunks_at_any_split) {
    std::string a = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\n\r\n"
                    "HTTP/1.1 202 Accepted\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd";
    for (std::size_t chunk : {1, 2, 5, 1000}) {
        http_reader h;
        int answers = 0;
        std::uint64_t body = 0;
        for (std::size_t i = 0; i < a.size();) {
            std::size_t used = 0;
            auto r = h.feed(reinterpret_cast<const std::uint8_t*>(a.data()) + i, std::min(chunk, a.size() - i), used);
            i += used;
            ASSERT_NE(r, http_reader::result::bad) << h.why();
            if (r == http_reader::result::answer) ++answers, body += h.body();
        }
        EXPECT_EQ(answers, 2) << chunk;
        EXPECT_EQ(body, 12u);
        EXPECT_EQ(h.status(), 202);
        EXPECT_TRUE(h.closes());
    }
}

TEST(handshake, the_answer_needs_101_and_the_right_accept) {
    std::string ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                     "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\nXY";
    auto a = check_upgrade_answer(ok);
    EXPECT_EQ(a.st, upgrade_answer::state::ok);
    EXPECT_EQ(ok.substr(a.head_len), "XY");
    EXPECT_TRUE(a.deflate);
    EXPECT_TRUE(a.server_no_context);
    EXPECT_EQ(check_upgrade_answer(ok.substr(0, 40)).st, upgrade_answer::state::incomplete);
    EXPECT_EQ(check_upgrade_answer("HTTP/1.1 404 Not Found\r\n\r\n").st, upgrade_answer::state::bad);
    EXPECT_EQ(check_upgrade_answer("HTTP/1.1 101 x\r\nSec-WebSocket-Accept: nope\r\n\r\n").st,
              upgrade_answer::state::bad);
}

TEST(histogram, quantiles_are_within_a_sixteenth) {
    histogram h;
    for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v);
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
        double want = q * 100000, got = double(h.quantile(q));
        EXPECT_GE(got, want * 0.999);
        EXPECT_LE(got, want * (1 + 1.0 / 16));
    }
    EXPECT_EQ(h.quantile(1.0), 100000u);
    EXPECT_EQ(h.max(), 100000u);
    EXPECT_DOUBLE_EQ(h.mean(), 50000.5);
}
