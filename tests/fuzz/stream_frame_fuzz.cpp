// Fuzz target: what a stream backend sends (backend/stream_frame): frames cut from any bytes,
// their headers decoded as actions, and acks written for their ids. Checks the reader's
// promises: a frame never claims more than the input, a payload is within max_size, a need_more
// never comes with more than one frame's worth of header buffered.
#include <cstdint>
#include <string>

#include <boost/json/serialize.hpp>

#include "backend/stream_frame.h"

using namespace wsgated::backend;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static frame_reader reader;
    constexpr std::uint64_t max_size = 1 << 16;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string out;
    while (!in.empty()) {
        auto r = reader.parse(in, max_size);
        if (r.st == frame_reader::status::error) break;
        if (r.st == frame_reader::status::need_more) {
            if (in.find('\n') == std::string_view::npos && in.size() > max_header_bytes) __builtin_trap();
            break;
        }
        if (r.consumed == 0 || r.consumed > in.size() || r.payload.size() > max_size || !r.header) __builtin_trap();
        action a;
        auto e = decode_action(*r.header, r.payload, a);
        if (a.id) append_ack(out, boost::json::serialize(*a.id), e, 1);
        if (e == action_error::none && a.code != 1000 && (a.code < 3000 || a.code > 4999)) __builtin_trap();
        in.remove_prefix(r.consumed);
    }
    // What the gateway writes must itself parse back as frames.
    std::string_view back(out);
    while (!back.empty()) {
        auto r = reader.parse(back, 0);
        if (r.st != frame_reader::status::frame) __builtin_trap();
        back.remove_prefix(r.consumed);
    }
    return 0;
}
