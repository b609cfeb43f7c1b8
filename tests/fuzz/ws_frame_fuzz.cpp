// Fuzz target: what a client sends after the handshake — any bytes as WebSocket frames — read by
// ws/frame_reader as ws/session reads them (no permessage-deflate offered here: ws_deflate does
// that), through support/ws_server.
//
// Input: byte 0 picks the message size limit and how many bytes each transport read gets (so
// frames arrive split anywhere); the rest is the client's byte stream.
//
// Checked against a reference reading of RFC 6455 written here (§5.2 framing, §5.4
// fragmentation, §5.5 control frames, §7.4 close codes, §8.1 UTF-8 — the order of checks is
// Beast's, which wsgated kept: the one a peer can observe): the same messages, in order, with the same
// payloads; a text message only if it is valid UTF-8 (protocol::valid_utf8, the rule wsgated
// holds its own text to); never a message over server.limits.max_message_size; the same end —
// the client's close echoed, a failure answered with close 1002 (protocol), 1007 (UTF-8) or 1009
// (size), or the input ending; and a pong for every ping before it, with the ping's payload.
// fuzz-runs: 100000
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/utf8.h"
#include "support/fail.h"
#include "support/ws_server.h"

namespace {

using namespace wsgated;
using fuzz::ws_message;

enum class end_kind { input_ended, closed, failed };

struct expectation {
    std::vector<ws_message> messages;
    std::vector<std::string> pings;  // payloads, in order: each must be answered by a pong
    end_kind how = end_kind::input_ended;
    unsigned code = 0;  // the close code the server sends (closed: the client's, or 1000)
};

std::uint64_t be(std::string_view s) {
    std::uint64_t v = 0;
    for (char c : s) v = (v << 8) | static_cast<unsigned char>(c);
    return v;
}

// Whether `s` can still become valid UTF-8: everything but an unfinished last sequence is
// valid, and that sequence's bytes so far are allowed by RFC 3629's table.
bool valid_utf8_prefix(std::string_view s) {
    std::size_t cut = s.size();
    for (std::size_t back = 1; back <= 3 && back <= s.size(); ++back) {
        auto c = static_cast<unsigned char>(s[s.size() - back]);
        if ((c & 0xc0) != 0x80) {
            cut = s.size() - back;
            break;
        }
    }
    if (cut == s.size()) return protocol::valid_utf8(s);
    std::string_view tail = s.substr(cut);
    auto lead = static_cast<unsigned char>(tail[0]);
    std::size_t need = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (need == 0) return protocol::valid_utf8(s);  // ASCII, or a byte no sequence starts with
    if (tail.size() >= need) return protocol::valid_utf8(s);
    if (!protocol::valid_utf8(s.substr(0, cut))) return false;
    if (tail.size() >= 2) {
        auto b = static_cast<unsigned char>(tail[1]);
        unsigned lo = lead == 0xe0 ? 0xa0 : lead == 0xf0 ? 0x90 : 0x80;
        unsigned hi = lead == 0xed ? 0x9f : lead == 0xf4 ? 0x8f : 0xbf;
        if (b < lo || b > hi) return false;
    }
    for (std::size_t i = 2; i < tail.size(); ++i)
        if ((static_cast<unsigned char>(tail[i]) & 0xc0) != 0x80) return false;
    return true;
}

// RFC 6455 §7.4: 1000-1003 and 1007-1011 are defined, 1012-1014 registered with IANA;
// 1004-1006 and 1015 may not be sent, 0-999 and 1016-2999 are not to be used, 3000-4999 are
// the applications', 5000 and up are undefined (SPEC §3: fail 1002, never echo).
bool valid_close_code(unsigned c) {
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

class reference {
public:
    explicit reference(std::uint64_t limit) : limit_(limit) {}

    expectation read(std::string_view in) {
        while (step(in)) {
        }
        return std::move(e_);
    }

private:
    bool fail(unsigned code) {
        e_.how = end_kind::failed;
        e_.code = code;
        return false;
    }

    // Input ran out inside a data frame's payload or between frames. Text read so far that can
    // no longer be UTF-8 was already refused as it arrived.
    bool input_ended() {
        if (in_message_ && !binary_ && !valid_utf8_prefix(text_)) return fail(1007);
        e_.how = end_kind::input_ended;
        return false;
    }

    bool step(std::string_view& in) {
        if (in.size() < 2) return input_ended();
        auto b0 = static_cast<unsigned char>(in[0]), b1 = static_cast<unsigned char>(in[1]);
        bool fin = b0 & 0x80, mask = b1 & 0x80;
        unsigned rsv = b0 & 0x70, op = b0 & 0x0f, len7 = b1 & 0x7f;
        std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        std::size_t header = 2 + ext + (mask ? 4 : 0);
        bool control = op >= 8;
        if (op == 1 || op == 2) {
            if (in_message_ || rsv) return fail(1002);
        } else if (op == 0) {
            if (!in_message_ || rsv) return fail(1002);
        } else {
            if ((op >= 3 && op <= 7) || op >= 11 || !fin || len7 > 125 || rsv) return fail(1002);
        }
        if (!mask) return fail(1002);  // §5.1: a client masks every frame
        // What the first two bytes show is judged as soon as they are there (wsgated does not
        // wait for the rest of a header it already refuses); the rest needs the whole header.
        if (in.size() < header) return input_ended();
        if (control && in.size() < header + len7) return input_ended();
        std::uint64_t len = ext ? be(in.substr(2, ext)) : len7;
        if ((ext == 2 && len < 126) || (ext == 8 && len < 65536)) return fail(1002);  // §5.2: shortest form
        if (ext == 8 && (len >> 63)) return fail(1002);  // §5.2: the most significant bit must be 0
        if (!control) {
            if (op != 0) size_ = 0;
            if (len > limit_ || size_ > limit_ - len) return fail(1009);
        }
        std::string_view key = in.substr(2 + ext, 4);
        in.remove_prefix(header);
        std::string payload(in.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(len, in.size()))));
        for (std::size_t i = 0; i < payload.size(); ++i) payload[i] ^= key[i % 4];
        in.remove_prefix(payload.size());
        if (control) return on_control(op, payload);
        return on_data(op, fin, len, payload);
    }

    bool on_control(unsigned op, const std::string& payload) {
        if (op == 9) e_.pings.push_back(payload);
        if (op != 8) return true;
        if (payload.empty()) return closed(1000);
        if (payload.size() == 1) return fail(1002);
        unsigned code = static_cast<unsigned>(be(std::string_view(payload).substr(0, 2)));
        if (!valid_close_code(code)) return fail(1002);
        if (!protocol::valid_utf8(std::string_view(payload).substr(2))) return fail(1007);  // as Node ws
        return closed(code);
    }

    bool closed(unsigned code) {
        e_.how = end_kind::closed;
        e_.code = code;
        return false;
    }

    bool on_data(unsigned op, bool fin, std::uint64_t len, const std::string& payload) {
        if (op != 0) {
            in_message_ = true;
            binary_ = op == 2;
            text_.clear();
        }
        text_ += payload;
        size_ += payload.size();
        if (payload.size() < len) return input_ended();
        if (!binary_ && !valid_utf8_prefix(text_)) return fail(1007);
        if (!fin) return true;
        if (!binary_ && !protocol::valid_utf8(text_)) return fail(1007);
        e_.messages.push_back({binary_, std::move(text_)});
        text_.clear();
        in_message_ = false;
        return true;
    }

    std::uint64_t limit_;
    expectation e_;
    bool in_message_ = false, binary_ = false;
    std::string text_;       // the message so far
    std::uint64_t size_ = 0; // its size so far
};

// What the server wrote: a pong for each ping (in order), then the close frame if it sent one.
void check_written(const fuzz::ws_outcome& got, const expectation& want) {
    std::string_view w(got.written);
    unsigned char first;
    std::string payload;
    std::size_t pongs = 0;
    std::optional<unsigned> close_code;
    while (fuzz::next_server_frame(w, first, payload)) {
        if (close_code) FUZZ_FAIL();  // nothing after the close frame
        if (first == 0x8a) {
            if (pongs >= want.pings.size() || payload != want.pings[pongs]) FUZZ_FAIL();
            ++pongs;
        } else if (first == 0x88) {
            if (payload.size() < 2) FUZZ_FAIL();
            close_code = static_cast<unsigned>(be(std::string_view(payload).substr(0, 2)));
        } else {
            FUZZ_FAIL();  // a data frame: the server has nothing to send here
        }
    }
    if (!w.empty() || pongs != want.pings.size()) FUZZ_FAIL();
    switch (want.how) {
    case end_kind::input_ended:
        if (close_code) FUZZ_FAIL();
        break;
    case end_kind::closed:
    case end_kind::failed:
        if (close_code != want.code) FUZZ_FAIL();
        break;
    }
}

void check_end(const fuzz::ws_outcome& got, const expectation& want) {
    switch (want.how) {
    case end_kind::input_ended:
        if (got.how != fuzz::ws_end::input_ended) FUZZ_FAIL();  // a close or failure the reference did not see
        break;
    case end_kind::closed:
        if (got.how != fuzz::ws_end::closed) FUZZ_FAIL();
        if (got.code != (want.code == 1000 && got.code == 1005 ? 1005u : want.code)) FUZZ_FAIL();
        break;
    case end_kind::failed:
        if (got.how != fuzz::ws_end::failed || got.code != want.code) FUZZ_FAIL();
        break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const std::uint64_t limits[] = {1, 125, 1000, 0};  // 0: the default (1 MiB)
    static const std::size_t read_sizes[] = {0, 1, 2, 3, 7, 64, 1000, 4096};
    const auto& cfg = fuzz::default_config();
    fuzz::ws_setup setup{cfg.server.limits, cfg.routes.front().compression, "", read_sizes[(data[0] >> 2) & 7]};
    if (auto l = limits[data[0] & 3]) setup.limits.max_message_size = l;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

    auto got = fuzz::serve(setup, in);
    if (got.response.rfind("HTTP/1.1 101", 0) != 0) FUZZ_FAIL();  // the handshake is fixed
    auto want = reference(setup.limits.max_message_size).read(in);

    if (got.messages.size() != want.messages.size()) FUZZ_FAIL();
    for (std::size_t i = 0; i < got.messages.size(); ++i) {
        const auto& m = got.messages[i];
        if (m.binary != want.messages[i].binary || m.payload != want.messages[i].payload) FUZZ_FAIL();
        if (m.payload.size() > setup.limits.max_message_size) FUZZ_FAIL();
        if (!m.binary && !protocol::valid_utf8(m.payload)) FUZZ_FAIL();
    }
    // What the reader holds is bounded by the limit (a buffer's capacity may be twice its size;
    // a control frame's 125 bytes are held whatever the limit), plus the block of its two
    // partial buffers (frame_reader::held() counts it while it exists).
    if (got.held > 2 * std::max<std::uint64_t>(setup.limits.max_message_size, 125) + 2 * sizeof(std::string))
        FUZZ_FAIL();
    check_end(got, want);
    check_written(got, want);
    return 0;
}
