// frame_reader: the receive side's only parsing: WebSocket frame headers, as bytes arrive in
// any split. Payload bytes are handed to the sink as they come (unmasked in place when the
// frames are masked, i.e. our own frames back from a raw TCP echo); the sink compares them
// with what was sent. Control frames (≤ 125 bytes) are gathered whole. One per connection.
//
// Sink interface:
//   bool on_message_begin(uint8_t opcode, bool rsv1)  false = protocol error
//   void on_message_data(uint8_t* p, size_t n)
//   void on_message_end()
//   void on_control(uint8_t opcode, uint8_t* p, size_t n)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace wsbench {

class frame_reader {
public:
    // masked_ok: a raw TCP echo returns our masked frames; a WebSocket server must not mask.
    explicit frame_reader(bool masked_ok = false) : masked_ok_(masked_ok) {}
    void reset(bool masked_ok) { *this = frame_reader(masked_ok); }
    bool in_message() const { return in_message_; }

    // Consumes all `n` bytes; false on a protocol error (the connection must end).
    template <class Sink>
    bool feed(std::uint8_t* p, std::size_t n, Sink& sink) {
        while (n > 0) {
            if (left_ == 0 && !in_frame_) {
                if (!read_header(p, n, sink)) return false;
                continue;
            }
            std::size_t take = n < left_ ? n : std::size_t(left_);
            if (masked_) unmask(p, take);
            if (control_) {
                std::memcpy(ctl_ + ctl_len_, p, take);
                ctl_len_ += std::uint8_t(take);
            } else {
                sink.on_message_data(p, take);
            }
            p += take;
            n -= take;
            left_ -= take;
            if (left_ == 0) end_frame(sink);
        }
        return true;
    }

private:
    static std::size_t header_size(const std::uint8_t* h) {
        std::size_t len7 = h[1] & 0x7F;
        return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((h[1] & 0x80) ? 4 : 0);
    }

    // Takes a header from p (whole, the usual case) or gathers it across calls in hdr_.
    template <class Sink>
    bool read_header(std::uint8_t*& p, std::size_t& n, Sink& sink) {
        const std::uint8_t* h = p;
        if (hdr_len_ == 0 && n >= 2 && n >= header_size(p)) {
            std::size_t hs = header_size(p);
            p += hs;
            n -= hs;
        } else {
            while (n > 0 && (hdr_len_ < 2 || hdr_len_ < header_size(hdr_))) {
                hdr_[hdr_len_++] = *p++;
                --n;
            }
            if (hdr_len_ < 2 || hdr_len_ < header_size(hdr_)) return true;  // need more
            h = hdr_;
            hdr_len_ = 0;
        }
        return start_frame(h, sink);
    }

    template <class Sink>
    bool start_frame(const std::uint8_t* h, Sink& sink) {
        bool fin = h[0] & 0x80, rsv1 = h[0] & 0x40;
        std::uint8_t op = h[0] & 0x0F;
        if (h[0] & 0x30) return false;  // RSV2/RSV3: no extension of ours uses them
        masked_ = h[1] & 0x80;
        if (masked_ && !masked_ok_) return false;
        std::uint64_t len = h[1] & 0x7F;
        const std::uint8_t* q = h + 2;
        if (len == 126) len = std::uint64_t(q[0]) << 8 | q[1], q += 2;
        else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; ++i) len = len << 8 | q[i];
            q += 8;
        }
        if (masked_) std::memcpy(mask_, q, 4), mask_pos_ = 0;
        control_ = op >= 0x8;
        if (control_) {
            if (!fin || len > 125 || rsv1) return false;
            ctl_op_ = op;
            ctl_len_ = 0;
        } else if (op == 0) {
            if (!in_message_ || rsv1) return false;  // continuation of nothing; RSV1 only first
        } else {
            if (in_message_ || op > 2 || !sink.on_message_begin(op, rsv1)) return false;
            in_message_ = true;
        }
        fin_ = fin;
        left_ = len;
        in_frame_ = true;
        if (left_ == 0) end_frame(sink);
        return true;
    }

    template <class Sink>
    void end_frame(Sink& sink) {
        in_frame_ = false;
        if (control_) {
            control_ = false;
            sink.on_control(ctl_op_, ctl_, ctl_len_);
        } else if (fin_) {
            in_message_ = false;
            sink.on_message_end();
        }
    }

    void unmask(std::uint8_t* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) p[i] ^= mask_[(mask_pos_ + i) & 3];
        mask_pos_ = std::uint8_t((mask_pos_ + n) & 3);
    }

    std::uint64_t left_ = 0;  // payload bytes left in the current frame
    bool in_frame_ = false;
    bool in_message_ = false;
    bool fin_ = false;
    bool control_ = false;
    bool masked_ = false;
    bool masked_ok_ = false;
    std::uint8_t hdr_len_ = 0;
    std::uint8_t mask_pos_ = 0;
    std::uint8_t ctl_op_ = 0;
    std::uint8_t ctl_len_ = 0;
    std::uint8_t mask_[4] = {};
    std::uint8_t hdr_[14] = {};
    std::uint8_t ctl_[125] = {};
};

}  // namespace wsbench
