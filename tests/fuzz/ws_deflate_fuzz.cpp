// Fuzz target: permessage-deflate (RFC 7692) as wsgated reads it — ws/inflater behind
// ws/frame_reader, compression negotiated by ws/deflate_negotiation, with
// server.limits.max_message_size as the reader's limit — on any compressed data, decompression
// bombs first among them.
//
// Input: byte 0 picks the limit (16 B … 1 MiB), the client's window bits (9-15, what the route's
// client_max_window_bits asks), client_no_context_takeover and the receive size. Then frames,
// each `flags len payload…` (len: one byte): flags bit 0 FIN, bit 1 text, bit 2 "not
// compressed" (RSV1 clear), bit 3: a ping goes before this frame. The harness masks and frames
// them; the first frame of a message gets its opcode and RSV1, the others are continuations.
//
// The bound applies after inflating: no message delivered and nothing held by the reader is
// ever over the limit, and a message that inflates (without error) to more than the limit fails
// 1009 — whatever its compressed size. Beyond the bound, each message is checked against zlib's
// own inflate (raw deflate, the same window, reset between messages under
// client_no_context_takeover, 00 00 FF FF appended as RFC 7692 §7.2.2 says): a message zlib
// inflates cleanly arrives with exactly zlib's bytes (text: only if valid UTF-8, else 1007);
// data zlib refuses fails the connection 1007.
// fuzz-runs: 20000
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <zlib.h>

#include "protocol/utf8.h"
#include "support/fail.h"
#include "support/ws_server.h"

namespace {

using namespace wsgated;

// How zlib reads one message.
enum class verdict {
    clean,       // inflated without error to at most the limit, ending at a flush point
    too_big,     // over the limit, and no error in the limit + 64 KiB that may be inflated first
    too_big_or_error,  // over the limit, then an error within that reach
    error,       // invalid deflate data before the limit
    irregular,   // no error, but not ending where a flush ends (BFINAL, a cut block, an empty
                 // payload): implementations differ there; only the bound is checked
};

struct reading {
    verdict v;
    std::string out;
};

// zlib, fed as RFC 7692 says, reset before each message under client_no_context_takeover.
class reference_inflater {
public:
    reference_inflater(int window_bits, bool reset_each) : reset_each_(reset_each) {
        if (inflateInit2(&z_, -window_bits) != Z_OK) FUZZ_FAIL();
    }
    ~reference_inflater() { inflateEnd(&z_); }

    reading read(const std::string& compressed, std::uint64_t limit) {
        reading r{verdict::clean, {}};
        if (reset_each_) inflateReset(&z_);
        const std::uint64_t cap = limit + 65536;
        int rc = feed(compressed, r.out, cap);
        bool bad = rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR;
        bool over = r.out.size() > limit;
        if (bad) r.v = over ? verdict::too_big_or_error : verdict::error;
        else if (rc == Z_STREAM_END) r.v = verdict::irregular;
        else if (over) r.v = verdict::too_big;
        if (bad || rc == Z_STREAM_END || over) return r;
        static const std::string tail("\x00\x00\xff\xff", 4);
        std::size_t before_tail = r.out.size();
        rc = feed(tail, r.out, cap);
        // The 4 bytes must end an empty stored block and nothing else: no output, no error, and
        // zlib between blocks after them (data_type bit 128). Anything else is not a flush point.
        if (rc == Z_DATA_ERROR || rc == Z_STREAM_END || r.out.size() != before_tail || !(z_.data_type & 128))
            r.v = verdict::irregular;
        return r;
    }

private:
    // Inflates all of `in` (or until `cap` bytes are out); zlib's return code.
    int feed(const std::string& in, std::string& out, std::uint64_t cap) {
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        unsigned char chunk[4096];
        for (;;) {
            z_.next_out = chunk;
            z_.avail_out = sizeof chunk;
            int rc = inflate(&z_, Z_SYNC_FLUSH);
            out.append(reinterpret_cast<char*>(chunk), sizeof chunk - z_.avail_out);
            if (rc != Z_OK) return rc;
            if (out.size() > cap) return Z_OK;
            if (z_.avail_in == 0 && z_.avail_out != 0) return Z_OK;
        }
    }

    z_stream z_{};
    bool reset_each_;
};

struct planned_message {
    bool text = false, compressed = true, complete = false;
    std::string payload;  // as sent, concatenated over its frames
};

// Builds the client's bytes from the input's frame records; returns the messages they carry.
std::vector<planned_message> build(std::string_view in, std::string& wire) {
    std::vector<planned_message> msgs;
    bool open = false;
    while (in.size() >= 2) {
        auto flags = static_cast<unsigned char>(in[0]);
        std::size_t n = std::min<std::size_t>(static_cast<unsigned char>(in[1]), in.size() - 2);
        std::string_view payload = in.substr(2, n);
        in.remove_prefix(2 + n);
        bool fin = flags & 1;
        if (flags & 8) wire += fuzz::client_frame(0x89, payload.substr(0, std::min<std::size_t>(payload.size(), 125)));
        unsigned char first = fin ? 0x80 : 0x00;
        if (!open) {
            msgs.push_back({static_cast<bool>(flags & 2), !(flags & 4), false, {}});
            first |= (flags & 2) ? 0x01 : 0x02;
            if (msgs.back().compressed) first |= 0x40;
            open = true;
        }
        wire += fuzz::client_frame(first, payload);
        msgs.back().payload += payload;
        if (fin) {
            msgs.back().complete = true;
            open = false;
        }
    }
    return msgs;
}

bool failed_with(const fuzz::ws_outcome& got, unsigned code) {
    return got.how == fuzz::ws_end::failed && got.code == code;
}

// Message i, which the reader delivered or failed on, against zlib's reading of it. Returns
// whether later messages can still be compared.
bool check_message(const planned_message& p, const reading& r, const fuzz::ws_outcome& got, std::size_t i) {
    bool delivered = i < got.messages.size();  // else the connection failed on this one
    bool bad_text = p.text && failed_with(got, 1007);
    if (r.v == verdict::clean) {
        if (p.text && !protocol::valid_utf8(r.out)) {
            if (delivered || !failed_with(got, 1007)) FUZZ_FAIL();
            return false;
        }
        if (!delivered) FUZZ_FAIL();  // refused what inflates cleanly
        if (got.messages[i].payload != r.out || got.messages[i].binary == p.text) FUZZ_FAIL();
        return true;
    }
    if (delivered) FUZZ_FAIL();  // over the limit, or invalid data, yet delivered
    if (r.v == verdict::too_big) {
        if (!failed_with(got, 1009) && !bad_text) FUZZ_FAIL();
        return false;
    }
    bool may_be_too_big = r.v == verdict::too_big_or_error;  // else the error comes first
    if (!failed_with(got, 1007) && !(may_be_too_big && failed_with(got, 1009))) FUZZ_FAIL();
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const std::uint64_t limits[] = {16, 1000, 16384, 0};  // 0: the default, 1 MiB
    static const std::size_t read_sizes[] = {0, 1, 5, 300};
    const auto& cfg = fuzz::default_config();
    unsigned char b = data[0];
    fuzz::ws_setup setup{cfg.server.limits, cfg.routes.front().compression,
                         "permessage-deflate; client_max_window_bits", read_sizes[(b >> 6) & 3]};
    if (auto l = limits[b & 3]) setup.limits.max_message_size = l;
    int window_bits = 9 + ((b >> 2) & 7) % 7;
    setup.compression.enabled = true;
    setup.compression.client_max_window_bits = window_bits;
    setup.compression.client_no_context_takeover = (b >> 5) & 1;
    const std::uint64_t limit = setup.limits.max_message_size;

    std::string wire;
    auto plan = build(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), wire);
    auto got = fuzz::serve(setup, wire);
    if (got.response.find("permessage-deflate") == std::string::npos) FUZZ_FAIL();  // not negotiated

    // The bound, whatever the data.
    for (const auto& m : got.messages)
        if (m.payload.size() > limit) FUZZ_FAIL();
    if (got.held > 2 * std::max<std::uint64_t>(limit, 125)) FUZZ_FAIL();  // capacity: up to twice the size
    if (got.messages.size() > plan.size()) FUZZ_FAIL();

    // Message by message, until the reader fails (every earlier message must have matched)
    // or zlib's reading says no more can be compared.
    reference_inflater zlib_ref(window_bits, setup.compression.client_no_context_takeover);
    for (std::size_t i = 0; i < plan.size() && plan[i].complete; ++i) {
        const auto& p = plan[i];
        reading r = p.compressed ? zlib_ref.read(p.payload, limit)
                  : reading{p.payload.size() > limit ? verdict::too_big : verdict::clean, p.payload};
        if (r.v == verdict::irregular) return 0;  // the bound above is all that is promised
        if (!check_message(p, r, got, i)) return 0;
    }
    return 0;
}
