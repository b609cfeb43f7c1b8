// frame_reader: see frame_reader.h. The order of checks is the one a peer can observe, and the
// one the fuzz target's reference reading of RFC 6455 holds us to.
#include "ws/frame_reader.h"

#include <algorithm>
#include <cstring>

#include "protocol/utf8.h"
#include "ws/inflater.h"

namespace wsgated::ws {
namespace {

using event = frame_reader::event;
using kind = frame_reader::kind;

// RFC 6455 §7.4 and IANA's registry: what a client may send. 1004-1006 and 1015 are never
// sent, 0-999 and 1016-2999 are not used, 5000 and up are undefined.
bool may_send(std::uint16_t c) {
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

std::span<const unsigned char> bytes_of(std::span<const char> s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

std::string_view view(std::span<const char> s) { return {s.data(), s.size()}; }

void unmask_in_place(std::span<char> s, std::uint32_t key, std::uint64_t offset) {
    unmask(reinterpret_cast<unsigned char*>(s.data()), s.size(), key, static_cast<std::size_t>(offset & 3));
}

// A buffer that grows as a long message arrives: not to the length a header announces, which a
// client can set to max_message_size and never send.
constexpr std::size_t reserve_ahead = 64 * 1024;

}  // namespace

event frame_reader::next(std::span<char>& in) {
    if (release_) {  // the last event's views are done with
        release_ = false;
        if (!in_message_) partial_.reset();
        else if (partial_) std::string().swap(partial_->control);
    }
    while (!ended_) {
        event ev = in_frame_ ? payload(in) : header(in);
        if (ev.what != kind::need_more) return ev;
        if (in.empty() && !(in_frame_ && left_ == 0)) return ev;  // an empty frame ends now, not later
    }
    return {};
}

// need_more with the frame begun: go on with its payload (if `in` has any).
event frame_reader::header(std::span<char>& in) {
    std::span<const unsigned char> bytes = bytes_of(in);
    std::size_t had = header_len_;
    if (had) {  // the start of this header came with the last receive
        std::size_t add = std::min(in.size(), max_client_header - had);
        if (add) std::memcpy(header_ + had, in.data(), add);
        bytes = {header_, had + add};
    }
    auto r = parse_client_header(bytes);
    if (r.status == header_status::refused) return fail(1002, r.why);
    // Judged once the first two bytes are here, like what parse_client_header sees in them.
    if (auto why = bytes.size() < 2 ? "" : out_of_sequence(bytes[0]); !why.empty()) return fail(1002, why);
    if (r.status == header_status::need_more) {  // kept: at most 13 bytes
        if (!had && !in.empty()) std::memcpy(header_, in.data(), in.size());
        header_len_ = static_cast<std::uint8_t>(std::min(bytes.size(), max_client_header));
        in = in.subspan(in.size());
        return {};
    }
    in = in.subspan(r.header.size - had);
    header_len_ = 0;
    return start_frame(r.header, in);
}

// What the first byte says wrong given the message in progress (empty: nothing).
std::string_view frame_reader::out_of_sequence(unsigned char first) const {
    auto op = static_cast<opcode>(first & 0x0F);
    bool rsv1 = first & 0x40;
    if (is_control(op)) return rsv1 ? "RSV1 set on a control frame" : "";
    if (op == opcode::continuation) {
        if (!in_message_) return "continuation frame outside a fragmented message";
        return rsv1 ? "RSV1 set on a continuation frame" : "";
    }
    if (in_message_) return "new message inside a fragmented one";
    return rsv1 && !inflater_ ? "RSV1 set without permessage-deflate" : "";
}

event frame_reader::start_frame(const client_header& h, std::span<char>& in) {
    if (!is_control(h.op) && h.op != opcode::continuation) {
        in_message_ = true;
        binary_ = h.op == opcode::binary;
        compressed_ = h.rsv1;
        size_ = 0;
        utf8_.reset();
    }
    if (!is_control(h.op) && !compressed_ && h.length > max_message_size_ - size_)
        return fail(1009, "message over max_message_size");
    frame_ = h;
    left_ = h.length;
    offset_ = 0;
    in_frame_ = true;
    if (in.size() < h.length) {
        // Compressed: the inflater sizes the buffer by what comes out (the limit is on that).
        if (!is_control(h.op) && !compressed_) {
            auto& message = kept().message;
            message.reserve(message.size() + std::min<std::uint64_t>(h.length, reserve_ahead));
        }
        return {};
    }
    // The whole payload is here: a control frame, or a message in one frame, read in place.
    auto n = static_cast<std::size_t>(h.length);
    if (is_control(h.op)) {
        auto p = in.first(n);
        unmask_in_place(p, h.key, 0);
        in = in.subspan(n);
        in_frame_ = false;
        return control(view(p));
    }
    if (h.op == opcode::continuation || !h.fin || compressed_) return {};
    auto p = in.first(n);
    unmask_in_place(p, h.key, 0);
    in = in.subspan(n);
    in_frame_ = false;
    in_message_ = false;
    size_ = n;
    if (!binary_ && !protocol::valid_utf8(view(p))) return fail(1007, "text message not UTF-8");
    return {kind::message, binary_, view(p), 0, {}};
}

// Payload bytes of the frame in progress, as many as `in` has.
event frame_reader::payload(std::span<char>& in) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in.size()));
    if (n == 0 && left_ > 0) return {};
    auto piece = in.first(n);
    unmask_in_place(piece, frame_.key, offset_);
    in = in.subspan(n);
    left_ -= n;
    offset_ += n;
    bool ends = left_ == 0;
    if (!is_control(frame_.op)) return data(piece, ends);
    kept().control.append(piece.data(), piece.size());  // rare: a control frame cut by a receive
    if (!ends) return {};
    in_frame_ = false;
    release_ = true;
    return control(partial_->control);
}

event frame_reader::data(std::span<const char> piece, bool frame_ends) {
    auto& message = kept().message;
    std::size_t before = message.size();
    if (compressed_) {
        auto r = inflater_->inflate(bytes_of(piece), frame_ends && frame_.fin, message, max_message_size_);
        if (r == inflater::result::too_big) return fail(1009, "message over max_message_size once inflated");
        if (r == inflater::result::bad_data) return fail(1007, "compressed data that does not inflate");
    } else {
        message.append(piece.data(), piece.size());
    }
    size_ = message.size();
    if (!binary_ && !utf8_.feed(std::string_view(message).substr(before)))
        return fail(1007, "text message not UTF-8");
    if (!frame_ends) return {};
    in_frame_ = false;
    if (!frame_.fin) return {};
    return message_ends();
}

event frame_reader::message_ends() {
    if (!binary_ && !utf8_.complete()) return fail(1007, "text message ends inside a UTF-8 sequence");
    in_message_ = false;
    release_ = true;
    return {kind::message, binary_, kept().message, 0, {}};
}

event frame_reader::control(std::string_view p) {
    if (frame_.op == opcode::ping) return {kind::ping, false, p, 0, {}};
    if (frame_.op == opcode::pong) return {kind::pong, false, p, 0, {}};
    return close_frame(p);
}

event frame_reader::close_frame(std::string_view p) {
    if (p.empty()) {
        ended_ = true;
        return {kind::close, false, {}, 1005, {}};
    }
    if (p.size() == 1) return fail(1002, "close frame with a 1-byte payload");
    auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) | static_cast<unsigned char>(p[1]));
    if (!may_send(code)) return fail(1002, "close code an endpoint may not send");
    if (!protocol::valid_utf8(p.substr(2))) return fail(1007, "close reason not UTF-8");
    ended_ = true;
    return {kind::close, false, p.substr(2), code, {}};
}

event frame_reader::fail(std::uint16_t code, std::string_view why) {
    ended_ = true;
    return {kind::fail, false, {}, code, why};
}

}  // namespace wsgated::ws
