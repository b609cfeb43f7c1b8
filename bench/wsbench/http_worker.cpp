#include "http_worker.h"

#include "clock.h"

namespace wsbench {

void http_worker::on_open(conn& c, std::int64_t, const std::string&) {
    c.hr = http_reader{};
    c.sent_at.assign(std::size_t(rc_.opt.depth), 0);
    c.ring_head = 0;
    top_up(c);
}

void http_worker::top_up(conn& c) {
    if (!sending_ || c.state != conn_state::open) return;
    std::int64_t now = now_ns();
    auto depth = std::uint32_t(rc_.opt.depth);
    while (c.in_flight < depth) {
        c.out.insert(c.out.end(), request_.begin(), request_.end());
        c.sent_at[(c.ring_head + c.in_flight) % depth] = now;
        ++c.in_flight;
        ++in_flight_;
        ++st.sent;
        st.bytes_sent += rc_.opt.size;
    }
    flush(c);
}

void http_worker::on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t) {
    std::int64_t now = now_ns();
    if (read_answers(c, p, n, "", [this, now](conn& c) { return on_answer(c, now); })) top_up(c);
}

bool http_worker::on_answer(conn& c, std::int64_t now) {
    if (c.in_flight == 0) {
        note(err::http, "an answer to no request");
        end(c, err::http);
        return false;
    }
    std::int64_t sent = c.sent_at[c.ring_head];
    c.ring_head = (c.ring_head + 1) % std::uint32_t(rc_.opt.depth);
    --c.in_flight;
    --in_flight_;
    if (c.hr.status() < 200 || c.hr.status() > 299) {
        st.count(err::http);
        note(err::http, "status " + std::to_string(c.hr.status()));
    } else {
        ++st.received;
        st.bytes_received += c.hr.body();
        if (measuring_) ++st.ops, st.latency.record(std::uint64_t(now - sent));
    }
    if (!c.hr.closes()) return true;
    end(c, err::none);  // the server ends keep-alive here; on_ended reconnects
    return false;
}

void http_worker::on_ended(conn& c, err why, std::int64_t now) {
    // Requests the server never answered: sent again on the next connection (a keep-alive
    // close), or lost (an error).
    if (why == err::none) {
        st.sent -= c.in_flight;
        st.bytes_sent -= c.in_flight * rc_.opt.size;
    } else {
        st.errors[unsigned(err::lost)] += c.in_flight;
    }
    in_flight_ -= c.in_flight;
    c.in_flight = 0;
    if (sending_ && rc_.ph.load(std::memory_order_relaxed) == phase::run) reconnect(c, why, now);
}

}  // namespace wsbench
