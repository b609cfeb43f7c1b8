// worker: one thread, one epoll loop, the connections dealt to it. It drives each
// connection through connect → TLS → upgrade → open → close, owns the receive buffer, and
// hands open connections' bytes to the mode (a subclass: echo_worker, storm_worker, …).
// Everything it counts is its own `stats`; the main thread only reads the atomics below.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "conn.h"
#include "run_context.h"
#include "source_addrs.h"

namespace wsbench {

class worker {
public:
    worker(run_context& rc, const target& tgt, const std::string& upgrade, int id, int conns);
    virtual ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    bool init(std::string& err);  // epoll, source addresses
    void run();                   // the thread body; returns after the close phase

    // For message sinks (they run inside on_bytes, on this worker's thread).
    void control(conn& c, std::uint8_t op, std::uint8_t* p, std::size_t n) { reply_control(c, op, p, n); }
    void protocol_error(conn& c);

    stats st;
    std::string tls_version, tls_cipher;  // of the first TLS connection
    // Read by the main thread while running (relaxed).
    std::atomic<std::uint64_t> resolved{0};   // initial connections now open or failed
    std::atomic<std::uint64_t> open_now{0};   // connections open right now
    std::atomic<std::uint64_t> busy{0};       // the mode's outstanding work (e.g. in flight)
    std::atomic<std::uint64_t> progress{0};   // the mode's progress counter (fanout deliveries)

protected:
    // Mode hooks, on this worker's thread.
    virtual void on_open(conn& c, std::int64_t now, const std::string& leftover) = 0;
    virtual void on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t now) = 0;
    // why: the error counted for this end, or err::none for a normal one (our close, the
    // server's answer to it, or an EOF while closing).
    virtual void on_ended(conn& c, err why, std::int64_t now) {}
    virtual void on_round(std::int64_t now) {}
    virtual std::uint64_t outstanding() const { return 0; }
    virtual std::uint64_t progress_count() const { return 0; }

    // Services for the modes.
    void connect(conn& c) { to_connect_.push_back(&c); }
    // Connects again: at once after a normal end, after a short pause after an error, so a
    // refusing server does not turn a reconnect loop into a busy spin.
    void reconnect(conn& c, err why, std::int64_t now);
    bool flush(conn& c);                        // false: the connection ended
    void end(conn& c, err why);                 // err::none: a normal end
    void begin_close(conn& c, std::int64_t now);
    void note(err e, const std::string& detail);
    bool reply_control(conn& c, std::uint8_t op, std::uint8_t* p, std::size_t n);

    // HTTP answers off c (http and fan-out's HTTP publisher): feeds c.hr and calls
    // on_answer(c) for each complete one; on_answer returns false once it ended c. A malformed
    // answer is noted (`what` first) and ends c. Returns whether c is still open.
    template <class OnAnswer>
    bool read_answers(conn& c, std::uint8_t* p, std::size_t n, const char* what, OnAnswer&& on_answer) {
        while (n > 0 && c.fd >= 0) {
            std::size_t used = 0;
            auto r = c.hr.feed(p, n, used);
            p += used;
            n -= used;
            if (r == http_reader::result::bad) {
                note(err::http, what + c.hr.why());
                end(c, err::http);
                return false;
            }
            if (r == http_reader::result::answer && !on_answer(c)) return false;
        }
        return c.fd >= 0;
    }

    run_context& rc_;
    const target& tgt_;
    const std::string& upgrade_;
    std::vector<std::unique_ptr<conn>> conns_;
    bool measuring_ = false;  // now is inside the measured window
    bool sending_ = true;     // now is before the window's end: keep loading
    std::int64_t measure_start_ = 0;

private:
    void on_event(conn& c, std::uint32_t ev, std::int64_t now);
    void start_socket(conn& c, std::int64_t now);
    void on_connected(conn& c, std::int64_t now);
    void step_tls(conn& c, std::int64_t now);
    void send_upgrade(conn& c);
    void read_upgrade(conn& c, std::int64_t now);
    void read_open(conn& c, std::int64_t now);
    void open(conn& c, std::int64_t now, const std::string& leftover);
    void pump_connects(std::int64_t now);
    void check_timeouts(std::int64_t now);
    void close_all(std::int64_t now);
    void update_round(std::int64_t now);
    void release_gate(conn& c);

    int id_;
    int ep_ = -1;
    std::size_t active_ = 0;  // connections with a socket
    source_addrs sources_;
    std::vector<conn*> to_connect_;
    std::vector<std::pair<std::int64_t, conn*>> retry_;  // (when, connection)
    std::vector<std::uint8_t> rx_;
    std::int64_t next_scan_ = 0;
};

}  // namespace wsbench
