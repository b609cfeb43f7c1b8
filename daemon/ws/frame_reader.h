// frame_reader: turns the bytes a client sends into WebSocket events — whole messages (their
// fragments joined, permessage-deflate inflated), pings, pongs, its close frame — or the failure
// that ends the connection, with the close code RFC 6455 asks for (1002 protocol, 1007 UTF-8 or
// inflate, 1009 size). Socket-free: ws/session feeds it what each receive brought; the fuzz
// target ws_frame feeds it anything.
//
// What it keeps between receives is only what it must: the few bytes of a header cut by a
// read, the message so far when it spans frames or reads, an unfinished UTF-8 sequence, the
// inflater's state. A message that arrives whole in one frame in one receive is unmasked in
// place and handed out as a view of the receive buffer (the worker's scratch): no copy, and an
// idle connection holds no buffer at all. One per session, on its worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "protocol/utf8_stream.h"
#include "ws/client_frame.h"

namespace wsgated::ws {

class inflater;

class frame_reader {
public:
    enum class kind : std::uint8_t { need_more, message, ping, pong, close, fail };

    struct event {
        kind what = kind::need_more;
        bool binary = false;
        std::string_view payload;  // message, ping, pong: the payload; close: the reason
        std::uint16_t code = 0;    // close: the client's code (1005: none); fail: ours to send
        std::string_view why;      // fail: what was wrong, for the log
    };

    // `inflate`: permessage-deflate was negotiated (RSV1 marks a compressed message); it must
    // outlive the reader. Null: RSV1 is a protocol error.
    frame_reader(std::uint64_t max_message_size, inflater* inflate)
        : max_message_size_(max_message_size), inflater_(inflate) {}

    // The handshake agreed on permessage-deflate: compressed messages inflate with `i`.
    void inflate_with(inflater* i) { inflater_ = i; }
    // A reload's limit: applies from the next frame on.
    void set_max_message_size(std::uint64_t n) { max_message_size_ = n; }

    // The next event from `in`, consuming what it used (unmasked in place). need_more: all of
    // `in` was taken in, its partial frame kept here. A view in an event is valid until the
    // next call or until `in`'s bytes change. After close or fail nothing more is read.
    event next(std::span<char>& in);

    // Bytes held between receives: the message so far (what idle memory is made of).
    std::size_t held() const { return partial_ ? sizeof(partial) + heap(partial_->message) + heap(partial_->control) : 0; }

private:
    event header(std::span<char>& in);
    std::string_view out_of_sequence(unsigned char first) const;
    event start_frame(const client_header& h, std::span<char>& in);
    event payload(std::span<char>& in);
    event data(std::span<const char> piece, bool frame_ends);
    event control(std::string_view payload);
    event close_frame(std::string_view payload);
    event message_ends();
    event fail(std::uint16_t code, std::string_view why);

    static std::size_t heap(const std::string& s) { return s.capacity() > std::string().capacity() ? s.capacity() : 0; }

    std::uint64_t max_message_size_;
    inflater* inflater_;
    // The frame being read.
    unsigned char header_[max_client_header];
    std::uint8_t header_len_ = 0;  // bytes of a header cut by the end of a receive
    bool in_frame_ = false;        // its header is read, `left_` payload bytes are not
    client_header frame_;
    std::uint64_t left_ = 0;
    std::uint64_t offset_ = 0;     // payload bytes of the frame read so far (the key's place)
    // The message being read (data frames).
    bool in_message_ = false;
    bool binary_ = false;
    bool compressed_ = false;
    bool release_ = false;         // message_ was handed out: emptied at the next call
    bool ended_ = false;           // closed or failed: nothing more
    std::uint64_t size_ = 0;       // the message's (inflated) size so far
    // Only while a message or a control frame spans receives (an idle reader holds none).
    struct partial {
        std::string message;  // the message so far, when it spans frames or receives
        std::string control;  // a control frame's payload cut by the end of a receive
    };
    std::unique_ptr<partial> partial_;
    partial& kept() {
        if (!partial_) partial_ = std::make_unique<partial>();
        return *partial_;
    }
    protocol::utf8_stream utf8_;
};

}  // namespace wsgated::ws
