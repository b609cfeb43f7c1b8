#include "fanout.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "clock.h"
#include "json_writer.h"

namespace wsbench {
namespace {

constexpr std::size_t stamp_len = 16;  // publish time, then sequence

struct subscriber_sink {
    fanout_worker& w;
    conn& c;
    std::int64_t now;
    bool on_message_begin(std::uint8_t op, bool) {
        c.msg_off = 0;
        c.bad = op != op_binary;
        return true;
    }
    void on_message_data(std::uint8_t* p, std::size_t n) { w.compare(c, p, n); }
    void on_message_end() { w.deliver(c, now); }
    void on_control(std::uint8_t op, std::uint8_t* p, std::size_t n) {
        if (c.fd >= 0) w.control(c, op, p, n);
    }
};

// The publisher's own WebSocket may get its messages back (peers that broadcast to all).
struct discard_sink {
    publisher_worker& w;
    conn& c;
    bool on_message_begin(std::uint8_t, bool) { return true; }
    void on_message_data(std::uint8_t*, std::size_t) {}
    void on_message_end() {}
    void on_control(std::uint8_t op, std::uint8_t* p, std::size_t n) {
        if (c.fd >= 0) w.control(c, op, p, n);
    }
};

}  // namespace

fanout_worker::fanout_worker(run_context& rc, const fanout_setup& s, int id, int conns)
    : worker(rc, rc.tgt, rc.upgrade, id, conns), s_(s) {
    count.assign(s.max_seq, 0);
    first.assign(s.max_seq, LLONG_MAX);
    last.assign(s.max_seq, 0);
    step_deliveries.assign(std::size_t(s.steps), 0);
    step_latency.resize(std::size_t(s.steps));
}

void fanout_worker::on_open(conn& c, std::int64_t now, const std::string& leftover) {
    c.rd.reset(false);
    if (!leftover.empty()) {
        std::string copy = leftover;
        on_bytes(c, reinterpret_cast<std::uint8_t*>(copy.data()), copy.size(), now);
    }
}

void fanout_worker::on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t) {
    subscriber_sink sink{*this, c, now_ns()};
    if (!c.rd.feed(p, n, sink) && c.fd >= 0) protocol_error(c);
}

void fanout_worker::compare(conn& c, const std::uint8_t* p, std::size_t n) {
    c.compare(s_.payload, stamp_len, p, n);
}

void fanout_worker::deliver(conn& c, std::int64_t now) {
    if (c.fd < 0) return;
    std::int64_t at = 0;
    std::uint64_t seq = 0;
    std::memcpy(&at, c.stamp, 8);
    std::memcpy(&seq, c.stamp + 8, 8);
    if (c.bad || c.msg_off != s_.payload.size() || seq >= s_.max_seq || at < rc_.t_start || at > now) {
        st.count(err::mismatch);
        note(err::mismatch, "a delivery differs from the message published");
        return;
    }
    ++count[seq];
    first[seq] = std::min(first[seq], now);
    last[seq] = std::max(last[seq], now);
    ++st.received;
    st.bytes_received += s_.payload.size();
    if (at < measure_start_) return;  // a warm-up message
    auto k = std::size_t((at - measure_start_) / s_.step_ns);
    if (k >= step_deliveries.size()) return;
    ++step_deliveries[k];
    ++st.ops;
    step_latency[k].record(std::uint64_t(now - at));
}

publisher_worker::publisher_worker(run_context& rc, const fanout_setup& s)
    : worker(rc, s.pub_target, s.pub_upgrade, 0, 1), s_(s) {
    published_at.assign(s.max_seq, 0);
    step_of.assign(s.max_seq, -1);
}

void publisher_worker::on_open(conn& c, std::int64_t, const std::string&) {
    c.rd.reset(false);
    c.hr = http_reader{};
    waiting_ = false;
}

void publisher_worker::on_round(std::int64_t now) {
    conn& c = *conns_[0];
    std::int64_t ms = measure_start_;
    if (c.state != conn_state::open || ms == LLONG_MAX) return;
    std::int64_t t0 = ms - seconds_ns(rc_.opt.warmup);
    if (now < t0) return;
    int seg = -1;
    std::int64_t seg_start = t0;
    double rate = rc_.opt.rates[0];
    if (now >= ms) {
        seg = int((now - ms) / s_.step_ns);
        if (seg >= s_.steps) return;
        seg_start = ms + seg * s_.step_ns;
        rate = rc_.opt.rates[std::size_t(seg)];
    }
    if (seg != segment_) segment_ = seg, in_segment_ = 0;
    auto due = std::uint64_t(double(now - seg_start) * rate / 1e9) + 1;
    while (in_segment_ < due && !waiting_ && published < s_.max_seq && c.fd >= 0) {
        publish(c, now, seg);
        ++in_segment_;
    }
}

void publisher_worker::publish(conn& c, std::int64_t now, int step) {
    std::uint64_t seq = published++;
    published_at[seq] = now;
    step_of[seq] = std::int16_t(step);
    std::uint8_t stamp[stamp_len];
    std::memcpy(stamp, &now, 8);
    std::memcpy(stamp + 8, &seq, 8);
    if (s_.via_http) {
        c.out.insert(c.out.end(), s_.http_head.begin(), s_.http_head.end());
        std::size_t at = c.out.size();
        c.out.insert(c.out.end(), s_.payload.begin(), s_.payload.end());
        std::memcpy(c.out.data() + at, stamp, stamp_len);
        waiting_ = true;
    } else {
        std::size_t at = c.out.size();
        c.out.insert(c.out.end(), s_.frame.bytes.begin(), s_.frame.bytes.end());
        s_.frame.stamp(c.out.data() + at, stamp, stamp_len);
    }
    ++st.sent;
    st.bytes_sent += s_.payload.size();
    flush(c);
}

void publisher_worker::on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t) {
    if (!s_.via_http) {
        discard_sink sink{*this, c};
        if (!c.rd.feed(p, n, sink) && c.fd >= 0) protocol_error(c);
        return;
    }
    read_answers(c, p, n, "publish: ", [this](conn& c) {
        waiting_ = false;
        if (c.hr.status() < 200 || c.hr.status() > 299) {
            st.count(err::http);
            note(err::http, "publish answered " + std::to_string(c.hr.status()));
        }
        if (!c.hr.closes()) return true;
        end(c, err::none);
        return false;
    });
}

void publisher_worker::on_ended(conn& c, err why, std::int64_t now) {
    waiting_ = false;
    if (sending_ && rc_.ph.load(std::memory_order_relaxed) == phase::run) reconnect(c, why, now);
}

}  // namespace wsbench
