#include "echo_worker.h"

#include <cstring>

#include "clock.h"

namespace wsbench {
namespace {

constexpr std::size_t stamp_len = 8;  // the send time, first in every payload
const std::uint8_t deflate_tail[4] = {0x00, 0x00, 0xFF, 0xFF};  // RFC 7692 §7.2.2

struct echo_sink {
    echo_worker& w;
    conn& c;
    std::int64_t now;

    bool on_message_begin(std::uint8_t op, bool rsv1) {
        c.compressed = rsv1;
        c.msg_off = 0;
        c.bad = op != op_binary;
        return !rsv1 || c.zin;  // RSV1 without the extension agreed is a protocol error
    }
    void on_message_data(std::uint8_t* p, std::size_t n) {
        if (c.fd < 0) return;  // ended by a control frame earlier in this read
        if (c.compressed) w.inflate_into(c, p, n);
        else w.compare(c, p, n);
    }
    void on_message_end() { w.message_end(c, now); }
    void on_control(std::uint8_t op, std::uint8_t* p, std::size_t n) {
        if (c.fd >= 0) w.control(c, op, p, n);
    }
};

}  // namespace

echo_worker::echo_worker(run_context& rc, const echo_setup& s, int id, int conns)
    : worker(rc, rc.tgt, rc.upgrade, id, conns), s_(s) {
    if (s.compressed) scratch_.resize(64 * 1024);
}

echo_worker::~echo_worker() {
    for (auto& c : conns_)
        if (c->zin) inflateEnd(c->zin), delete c->zin, c->zin = nullptr;
}

void echo_worker::on_open(conn& c, std::int64_t now, const std::string& leftover) {
    c.rd.reset(s_.raw);
    if (s_.compressed) {
        if (!c.deflate) {
            note(err::handshake, "the server did not agree to permessage-deflate");
            return end(c, err::handshake);
        }
        ++st.negotiated;
        if (first_no_context < 0) first_no_context = c.server_no_context;
        c.zin = new z_stream{};
        if (inflateInit2(c.zin, -15) != Z_OK) return end(c, err::protocol);
    }
    top_up(c);
    if (!leftover.empty() && c.fd >= 0) {
        std::string copy = leftover;
        on_bytes(c, reinterpret_cast<std::uint8_t*>(copy.data()), copy.size(), now);
    }
}

void echo_worker::on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t) {
    feed(c, p, n);
    if (c.fd >= 0) top_up(c);
}

void echo_worker::feed(conn& c, std::uint8_t* p, std::size_t n) {
    echo_sink sink{*this, c, now_ns()};
    if (!c.rd.feed(p, n, sink) && c.fd >= 0) protocol_error(c);
}

// Sends as many messages as the connection owes (depth − in flight), all in one write.
void echo_worker::top_up(conn& c) {
    if (!sending_ || c.state != conn_state::open) return;
    std::uint32_t owed = std::uint32_t(rc_.opt.depth) - c.in_flight;
    // --batch: wait until enough are owed to fill one write, unless nothing is in flight.
    if (owed == 0 || (owed < std::uint32_t(rc_.opt.batch) && c.in_flight > 0)) return;
    const auto& f = s_.frame.bytes;
    std::size_t at = c.out.size();
    c.out.resize(at + owed * f.size());
    std::int64_t now = now_ns();
    for (std::uint32_t i = 0; i < owed; ++i) {
        std::uint8_t* dst = c.out.data() + at + i * f.size();
        std::memcpy(dst, f.data(), f.size());
        s_.frame.stamp(dst, &now, stamp_len);
    }
    c.in_flight += owed;
    in_flight_ += owed;
    st.sent += owed;
    st.bytes_sent += owed * s_.payload.size();
    flush(c);
}

void echo_worker::compare(conn& c, const std::uint8_t* p, std::size_t n) {
    c.compare(s_.payload, stamp_len, p, n);
}

void echo_worker::inflate_into(conn& c, const std::uint8_t* p, std::size_t n) {
    z_stream& z = *c.zin;
    z.next_in = const_cast<std::uint8_t*>(p);
    z.avail_in = unsigned(n);
    for (;;) {
        z.next_out = scratch_.data();
        z.avail_out = unsigned(scratch_.size());
        int r = inflate(&z, Z_SYNC_FLUSH);
        std::size_t got = scratch_.size() - z.avail_out;
        if (got > 0) compare(c, scratch_.data(), got);
        if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END) {
            c.bad = true;
            inflateReset(&z);
            return;
        }
        if (r == Z_STREAM_END) inflateReset(&z);
        if ((z.avail_in == 0 && z.avail_out != 0) || r == Z_BUF_ERROR) return;
    }
}

void echo_worker::message_end(conn& c, std::int64_t now) {
    if (c.fd < 0) return;
    if (c.compressed) {
        inflate_into(c, deflate_tail, sizeof deflate_tail);
        if (c.server_no_context) inflateReset(c.zin);
        ++st.compressed;
    }
    std::int64_t sent_at = 0;
    std::memcpy(&sent_at, c.stamp, stamp_len);
    bool ok = !c.bad && c.msg_off == s_.payload.size() && c.in_flight > 0 &&
              sent_at >= rc_.t_start && sent_at <= now;
    c.msg_off = 0;
    c.bad = false;
    if (!ok) {
        st.count(err::mismatch);
        note(err::mismatch, "a reply differs from the message sent (bytes, length or stamp)");
        return;
    }
    --c.in_flight;
    --in_flight_;
    ++st.received;
    st.bytes_received += s_.payload.size();
    if (measuring_) {
        ++st.ops;
        st.latency.record(std::uint64_t(now - sent_at));
    }
}

void echo_worker::on_ended(conn& c, err, std::int64_t) {
    // Whatever is still in flight will never come back.
    st.errors[unsigned(err::lost)] += c.in_flight;
    in_flight_ -= c.in_flight;
    c.in_flight = 0;
    if (c.zin) inflateEnd(c.zin), delete c.zin, c.zin = nullptr;
}

}  // namespace wsbench
