#include "storm_worker.h"

namespace wsbench {
namespace {

// Data messages are not expected here and are skipped; control frames are answered (a
// close while closing ends the cycle).
template <class W>
struct ignore_sink {
    W& w;
    conn& c;
    bool on_message_begin(std::uint8_t, bool) { return true; }
    void on_message_data(std::uint8_t*, std::size_t) {}
    void on_message_end() { ++w.st.received; }
    void on_control(std::uint8_t op, std::uint8_t* p, std::size_t n) {
        if (c.fd >= 0) w.control(c, op, p, n);
    }
};

template <class W>
void feed(W& w, conn& c, std::uint8_t* p, std::size_t n) {
    ignore_sink<W> sink{w, c};
    if (!c.rd.feed(p, n, sink) && c.fd >= 0) w.protocol_error(c);
}

}  // namespace

void storm_worker::on_open(conn& c, std::int64_t now, const std::string& leftover) {
    if (measuring_) {
        ++st.handshakes;
        ++st.ops;
        st.latency.record(std::uint64_t(now - c.t_start));
    }
    c.rd.reset(false);
    begin_close(c, now);
    if (!leftover.empty() && c.fd >= 0) {
        std::string copy = leftover;
        on_bytes(c, reinterpret_cast<std::uint8_t*>(copy.data()), copy.size(), now);
    }
}

void storm_worker::on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t) {
    feed(*this, c, p, n);
}

void storm_worker::on_ended(conn& c, err why, std::int64_t now) {
    if (why == err::none && measuring_) ++st.cycles;
    if (!sending_ || rc_.ph.load(std::memory_order_relaxed) != phase::run) return;
    reconnect(c, why, now);
}

void idle_worker::on_open(conn& c, std::int64_t now, const std::string& leftover) {
    ++st.ops;
    st.latency.record(std::uint64_t(now - c.t_start));
    c.rd.reset(false);
    if (!leftover.empty()) {
        std::string copy = leftover;
        on_bytes(c, reinterpret_cast<std::uint8_t*>(copy.data()), copy.size(), now);
    }
}

void idle_worker::on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t) {
    feed(*this, c, p, n);
}

}  // namespace wsbench
