// Tests for ws/frame_reader: messages whole, cut anywhere and fragmented; control frames among
// fragments; every failure with its close code; what it keeps between receives.
#include "ws/frame_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace wsgated::ws;
using kind = frame_reader::kind;

namespace {

std::string frame(unsigned char first, std::string_view payload) {
    std::string f(1, static_cast<char>(first));
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    std::size_t n = payload.size();
    if (n < 126) {
        f.push_back(static_cast<char>(0x80 | n));
    } else if (n < 65536) {
        f.push_back(static_cast<char>(0x80 | 126));
        f.push_back(static_cast<char>(n >> 8));
        f.push_back(static_cast<char>(n));
    } else {
        f.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    }
    f.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    return f;
}

struct seen {
    kind what;
    bool binary;
    std::string payload;
    std::uint16_t code;
};

// Feeds `wire` in receives of `step` bytes (each in fresh memory), collecting every event.
std::vector<seen> read_all(frame_reader& r, const std::string& wire, std::size_t step) {
    std::vector<seen> out;
    for (std::size_t at = 0; at < wire.size(); at += step) {
        std::vector<char> receive(wire.begin() + static_cast<std::ptrdiff_t>(at),
                                  wire.begin() + static_cast<std::ptrdiff_t>(std::min(wire.size(), at + step)));
        std::span<char> in(receive);
        for (;;) {
            auto ev = r.next(in);
            if (ev.what == kind::need_more) break;
            out.push_back({ev.what, ev.binary, std::string(ev.payload), ev.code});
            if (ev.what == kind::close || ev.what == kind::fail) return out;
        }
    }
    return out;
}

std::vector<seen> read_all(const std::string& wire, std::size_t step = 1 << 20, std::uint64_t limit = 1 << 20) {
    frame_reader r(limit, nullptr);
    return read_all(r, wire, step);
}

std::uint16_t fails_with(const std::string& wire, std::uint64_t limit = 1 << 20) {
    auto ev = read_all(wire, 1 << 20, limit);
    return !ev.empty() && ev.back().what == kind::fail ? ev.back().code : 0;
}

}  // namespace

TEST(frame_reader, a_whole_message_is_read_in_place_without_a_copy) {
    std::string wire = frame(0x81, "hello");
    std::vector<char> receive(wire.begin(), wire.end());
    std::span<char> in(receive);
    frame_reader r(1024, nullptr);
    auto ev = r.next(in);
    ASSERT_EQ(ev.what, kind::message);
    EXPECT_EQ(ev.payload, "hello");
    EXPECT_EQ(ev.payload.data(), receive.data() + 6);  // unmasked where it arrived
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(r.held(), 0u);
}

TEST(frame_reader, messages_cut_at_every_byte_arrive_whole_and_nothing_is_kept_after) {
    std::string text(300, 'a');
    std::string wire = frame(0x81, text) + frame(0x82, std::string("\x00\x01\x02", 3)) + frame(0x81, "");
    for (std::size_t step : {1, 2, 3, 5, 13, 64, 299}) {
        frame_reader r(1 << 20, nullptr);
        auto ev = read_all(r, wire, step);
        ASSERT_EQ(ev.size(), 3u) << "step " << step;
        EXPECT_EQ(ev[0].payload, text);
        EXPECT_TRUE(ev[1].binary);
        EXPECT_EQ(ev[1].payload, std::string("\x00\x01\x02", 3));
        EXPECT_EQ(ev[2].payload, "");
        std::vector<char> none;
        std::span<char> empty(none);
        r.next(empty);  // lets go of the last message's buffer
        EXPECT_EQ(r.held(), 0u) << "step " << step;
    }
}

TEST(frame_reader, fragments_join_and_a_ping_between_them_comes_first) {
    std::string wire = frame(0x01, "Hel") + frame(0x89, "p!") + frame(0x00, "lo, ") + frame(0x80, "world");
    for (std::size_t step : {1, 4, 1000}) {
        auto ev = read_all(wire, step);
        ASSERT_EQ(ev.size(), 2u);
        EXPECT_EQ(ev[0].what, kind::ping);
        EXPECT_EQ(ev[0].payload, "p!");
        EXPECT_EQ(ev[1].what, kind::message);
        EXPECT_EQ(ev[1].payload, "Hello, world");
    }
}

TEST(frame_reader, an_empty_last_fragment_ends_the_message_in_the_same_receive) {
    frame_reader r(1024, nullptr);
    std::string wire = frame(0x01, "abc") + frame(0x80, "");
    std::vector<char> receive(wire.begin(), wire.end());
    std::span<char> in(receive);
    auto ev = r.next(in);
    ASSERT_EQ(ev.what, kind::message);  // not held back until more bytes come
    EXPECT_EQ(ev.payload, "abc");
}

TEST(frame_reader, close_frames_and_their_codes) {
    auto close = [](std::string payload) { return frame(0x88, payload); };
    auto code = [](std::uint16_t c) { return std::string{static_cast<char>(c >> 8), static_cast<char>(c & 0xff)}; };
    auto ev = read_all(close(""));
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].what, kind::close);
    EXPECT_EQ(ev[0].code, 1005);
    ev = read_all(close(code(4000) + "bye"));
    EXPECT_EQ(ev[0].code, 4000);
    EXPECT_EQ(ev[0].payload, "bye");
    for (std::uint16_t ok : {1000, 1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999})
        EXPECT_EQ(read_all(close(code(ok)))[0].what, kind::close) << ok;
    for (std::uint16_t bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
        EXPECT_EQ(fails_with(close(code(bad))), 1002) << bad;
    EXPECT_EQ(fails_with(close("\x03")), 1002);                         // one byte
    EXPECT_EQ(fails_with(close(code(1000) + "\xff")), 1007);            // reason not UTF-8
    auto after = read_all(close(code(1000)) + frame(0x81, "ignored"));  // nothing after a close
    EXPECT_EQ(after.size(), 1u);
}

TEST(frame_reader, protocol_errors_fail_1002) {
    EXPECT_EQ(fails_with(frame(0x80, "x")), 1002);                      // continuation, no message
    EXPECT_EQ(fails_with(frame(0x01, "a") + frame(0x81, "b")), 1002);   // new message inside one
    EXPECT_EQ(fails_with(frame(0xC1, "x")), 1002);                      // RSV1, no deflate
    EXPECT_EQ(fails_with(frame(0xC9, "")), 1002);                       // RSV1 on a ping
    EXPECT_EQ(fails_with(frame(0x09, "")), 1002);                       // fragmented ping
    EXPECT_EQ(fails_with(std::string("\x81\x05hello", 7)), 1002);       // unmasked
}

TEST(frame_reader, utf8_fails_fast_1007_even_inside_a_fragmented_message) {
    frame_reader r(1 << 20, nullptr);
    std::string first = frame(0x01, "ok \xed\xa0\x80");  // a surrogate: can never become valid
    auto ev = read_all(r, first, 1 << 20);
    ASSERT_EQ(ev.size(), 1u);  // failed before the message's last fragment
    EXPECT_EQ(ev[0].what, kind::fail);
    EXPECT_EQ(ev[0].code, 1007);
    EXPECT_EQ(fails_with(frame(0x01, "caf\xc3") + frame(0x80, "")), 1007);  // ends mid-sequence
    EXPECT_EQ(read_all(frame(0x01, "caf\xc3") + frame(0x80, "\xa9"))[0].payload, "caf\xc3\xa9");
    EXPECT_EQ(read_all(frame(0x82, "\xff"))[0].what, kind::message);  // binary: anything goes
}

TEST(frame_reader, the_size_limit_fails_1009_from_the_header_on) {
    EXPECT_EQ(fails_with(frame(0x81, std::string(100, 'a')), 100), 0);  // inclusive
    EXPECT_EQ(fails_with(frame(0x81, std::string(101, 'a')), 100), 1009);
    EXPECT_EQ(fails_with(frame(0x01, std::string(60, 'a')) + frame(0x80, std::string(41, 'a')), 100), 1009);
    // A header announcing more than the limit fails before any payload byte arrives.
    std::string header = frame(0x82, std::string(70000, 'x')).substr(0, 14);
    frame_reader r(65536, nullptr);
    auto ev = read_all(r, header, 1 << 20);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].code, 1009);
}

TEST(frame_reader, a_reload_limit_applies_to_the_next_message) {
    frame_reader r(10, nullptr);
    EXPECT_EQ(read_all(r, frame(0x81, "0123456789"), 100).size(), 1u);
    r.set_max_message_size(5);
    auto ev = read_all(r, frame(0x81, "012345"), 100);
    EXPECT_EQ(ev[0].code, 1009);
}
