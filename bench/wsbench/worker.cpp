#include "worker.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "clock.h"
#include "conn_io.h"
#include "frames.h"
#include "handshake.h"

namespace wsbench {
namespace {

constexpr std::size_t rx_size = 256 * 1024;
constexpr std::size_t max_upgrade_answer = 16 * 1024;
constexpr std::int64_t scan_every = 10'000'000;   // 10 ms: timeout resolution
constexpr std::int64_t close_grace = 1'000'000'000;
constexpr std::int64_t retry_pause = 10'000'000;  // 10 ms after a failed attempt

}  // namespace

worker::worker(run_context& rc, const target& tgt, const std::string& upgrade, int id, int n)
    : rc_(rc), tgt_(tgt), upgrade_(upgrade), id_(id) {
    conns_.reserve(std::size_t(n));
    for (int i = 0; i < n; ++i) conns_.push_back(std::make_unique<conn>());
}

worker::~worker() {
    for (auto& c : conns_)
        if (c->fd >= 0) end(*c, err::none);
    if (ep_ >= 0) close(ep_);
}

bool worker::init(std::string& err) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) return err = std::string("epoll_create1: ") + std::strerror(errno), false;
    rx_.resize(rx_size);
    return sources_.configure(rc_.opt.source, tgt_, unsigned(id_), err);
}

void worker::note(err e, const std::string& detail) {
    if (rc_.opt.quiet || rc_.noted[unsigned(e)].exchange(true)) return;
    std::fprintf(stderr, "wsbench: first %s error: %s\n", err_name(e), detail.c_str());
}

void worker::run() {
    if (!rc_.opt.pin.empty()) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(rc_.opt.pin[std::size_t(id_) % rc_.opt.pin.size()], &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    for (auto& c : conns_) to_connect_.push_back(c.get());
    epoll_event evs[256];
    bool closing = false;
    std::int64_t close_deadline = 0;
    for (;;) {
        int n = epoll_wait(ep_, evs, 256, 1);
        std::int64_t now = now_ns();
        update_round(now);
        for (int i = 0; i < n; ++i) on_event(*static_cast<conn*>(evs[i].data.ptr), evs[i].events, now);
        if ((!to_connect_.empty() || !retry_.empty()) && !closing) pump_connects(now);
        if (now >= next_scan_) check_timeouts(now), next_scan_ = now + scan_every;
        on_round(now);
        busy.store(outstanding(), std::memory_order_relaxed);
        progress.store(progress_count(), std::memory_order_relaxed);
        if (!closing && rc_.ph.load(std::memory_order_relaxed) == phase::close) {
            closing = true;
            close_deadline = now + close_grace;
            close_all(now);
        }
        if (closing && (active_ == 0 || now >= close_deadline)) break;
    }
    for (auto& c : conns_)
        if (c->fd >= 0) end(*c, err::none);
}

void worker::update_round(std::int64_t now) {
    measure_start_ = rc_.measure_start.load(std::memory_order_acquire);
    std::int64_t me = rc_.measure_end.load(std::memory_order_relaxed);
    measuring_ = now >= measure_start_ && now < me;
    sending_ = now < me;
}

void worker::reconnect(conn& c, err why, std::int64_t now) {
    if (why == err::none) connect(c);
    else retry_.emplace_back(now + retry_pause, &c);
}

void worker::pump_connects(std::int64_t now) {
    for (std::size_t i = 0; i < retry_.size();) {
        if (retry_[i].first > now) {
            ++i;
            continue;
        }
        to_connect_.push_back(retry_[i].second);
        retry_[i] = retry_.back();
        retry_.pop_back();
    }
    std::size_t started = 0;
    while (started < to_connect_.size()) {
        if (rc_.connecting.fetch_add(1, std::memory_order_relaxed) >= rc_.opt.connect_concurrency) {
            rc_.connecting.fetch_sub(1, std::memory_order_relaxed);
            break;
        }
        conn& c = *to_connect_[started++];
        c.gated = true;
        start_socket(c, now);
    }
    to_connect_.erase(to_connect_.begin(), to_connect_.begin() + std::ptrdiff_t(started));
}

void worker::release_gate(conn& c) {
    if (c.gated) rc_.connecting.fetch_sub(1, std::memory_order_relaxed);
    c.gated = false;
}

void worker::start_socket(conn& c, std::int64_t now) {
    c.t_start = now;
    c.deadline = now + seconds_ns(rc_.opt.handshake_timeout);
    c.state = conn_state::connecting;
    c.fd = socket(tgt_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        note(err::connect, std::string("socket: ") + std::strerror(errno));
        return end(c, err::connect);
    }
    ++active_;
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c;
    if (!sources_.bind_next(c.fd) || epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        note(err::connect, std::string("bind/epoll: ") + std::strerror(errno));
        return end(c, err::connect);
    }
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&tgt_.addr), tgt_.addr_len) == 0)
        return on_connected(c, now);
    if (errno != EINPROGRESS) {
        note(err::connect, std::string("connect: ") + std::strerror(errno));
        end(c, err::connect);
    }
}

void worker::on_event(conn& c, std::uint32_t ev, std::int64_t now) {
    if (c.fd < 0) return;  // ended earlier in this round
    switch (c.state) {
    case conn_state::connecting: {
        int e = 0;
        socklen_t len = sizeof e;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &e, &len);
        if (e != 0 || (ev & EPOLLERR)) {
            note(err::connect, std::string("connect: ") + std::strerror(e ? e : ECONNREFUSED));
            return end(c, err::connect);
        }
        if (ev & EPOLLOUT) on_connected(c, now);
        return;
    }
    case conn_state::tls: return step_tls(c, now);
    case conn_state::upgrading:
        if (c.out_off < c.out.size() && !flush(c)) return;
        return read_upgrade(c, now);
    case conn_state::open:
    case conn_state::closing:
        if (c.out_off < c.out.size() && !flush(c)) return;
        if (c.ssl || (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))) read_open(c, now);
        return;
    case conn_state::idle: return;
    }
}

void worker::on_connected(conn& c, std::int64_t now) {
    if (tgt_.tls()) {
        c.ssl = SSL_new(rc_.tls);
        if (!c.ssl || !SSL_set_fd(c.ssl, c.fd)) return end(c, err::tls);
        SSL_set_tlsext_host_name(c.ssl, tgt_.host.c_str());
        c.state = conn_state::tls;
        return step_tls(c, now);
    }
    if (tgt_.upgrade()) return send_upgrade(c);
    open(c, now, {});
}

void worker::step_tls(conn& c, std::int64_t now) {
    ERR_clear_error();
    int r = SSL_connect(c.ssl);
    if (r == 1) {
        if (tls_version.empty()) {
            tls_version = SSL_get_version(c.ssl);
            tls_cipher = SSL_get_cipher_name(c.ssl);
        }
        return send_upgrade(c);
    }
    int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    char buf[256];
    ERR_error_string_n(ERR_peek_error(), buf, sizeof buf);
    note(err::tls, std::string("handshake: ") + (ERR_peek_error() ? buf : std::strerror(errno)));
    end(c, err::tls);
}

void worker::send_upgrade(conn& c) {
    c.state = conn_state::upgrading;
    c.out.assign(upgrade_.begin(), upgrade_.end());
    c.out_off = 0;
    flush(c);
}

void worker::read_upgrade(conn& c, std::int64_t now) {
    for (;;) {
        err why = err::closed;
        long r = conn_read(c, rx_.data(), rx_.size(), why);
        if (r == io_again) return;
        if (r <= 0) {
            note(why == err::closed ? err::handshake : why, "connection ended during the upgrade");
            return end(c, why == err::closed ? err::handshake : why);
        }
        c.head.append(reinterpret_cast<const char*>(rx_.data()), std::size_t(r));
        upgrade_answer a = check_upgrade_answer(c.head);
        if (a.st == upgrade_answer::state::incomplete) {
            if (c.head.size() <= max_upgrade_answer) continue;
            a.st = upgrade_answer::state::bad;
            a.why = "upgrade answer head too long";
        }
        if (a.st == upgrade_answer::state::bad) {
            note(err::handshake, a.why);
            return end(c, err::handshake);
        }
        c.deflate = a.deflate;
        c.server_no_context = a.server_no_context;
        std::string leftover = c.head.substr(a.head_len);
        c.head.clear();
        c.head.shrink_to_fit();
        return open(c, now, leftover);
    }
}

void worker::open(conn& c, std::int64_t now, const std::string& leftover) {
    c.state = conn_state::open;
    release_gate(c);
    ++st.established;
    open_now.fetch_add(1, std::memory_order_relaxed);
    if (c.initial) c.initial = false, resolved.fetch_add(1, std::memory_order_relaxed);
    on_open(c, now, leftover);
}

void worker::read_open(conn& c, std::int64_t now) {
    for (;;) {
        err why = err::closed;
        long r = conn_read(c, rx_.data(), rx_.size(), why);
        if (r > 0) {
            on_bytes(c, rx_.data(), std::size_t(r), now);
            if (c.fd < 0 || c.state == conn_state::idle) return;
            // Edge-triggered: a short plain read emptied the socket; new data is a new event.
            if (!c.ssl && std::size_t(r) < rx_.size()) return;
            continue;
        }
        if (r == io_again) return;
        if (c.state != conn_state::closing) note(why, "connection ended by the server mid-run");
        return end(c, why);
    }
}

bool worker::flush(conn& c) {
    while (c.out_off < c.out.size()) {
        err why = err::closed;
        long w = conn_write(c, c.out.data() + c.out_off, c.out.size() - c.out_off, why);
        if (w > 0) {
            c.out_off += std::size_t(w);
            continue;
        }
        if (w == io_again) return true;
        if (c.state != conn_state::closing) note(why, "write failed");
        end(c, why);
        return false;
    }
    c.out.clear();
    c.out_off = 0;
    return true;
}

void worker::protocol_error(conn& c) {
    note(err::protocol, "bad frame from the server");
    end(c, err::protocol);
}

bool worker::reply_control(conn& c, std::uint8_t op, std::uint8_t* p, std::size_t n) {
    if (op == op_ping) {
        append_pong(c.out, p, n);
        return flush(c);
    }
    if (op != op_close) return true;
    if (c.state == conn_state::closing) {
        end(c, err::none);
    } else {
        note(err::closed, "close frame from the server mid-run");
        end(c, err::closed);
    }
    return false;
}

void worker::begin_close(conn& c, std::int64_t now) {
    if (!tgt_.upgrade() || c.state != conn_state::open) return end(c, err::none);
    c.state = conn_state::closing;
    c.deadline = now + close_grace;
    auto f = close_frame(1000);
    c.out.insert(c.out.end(), f.begin(), f.end());
    flush(c);
}

void worker::close_all(std::int64_t now) {
    to_connect_.clear();
    retry_.clear();
    for (auto& c : conns_) {
        if (c->fd < 0) continue;
        if (c->state == conn_state::open) begin_close(*c, now);
        else if (c->state != conn_state::closing) end(*c, err::none);
    }
}

void worker::check_timeouts(std::int64_t now) {
    for (auto& cp : conns_) {
        conn& c = *cp;
        if (c.fd < 0 || c.state == conn_state::open || now < c.deadline) continue;
        if (c.state == conn_state::closing) {
            end(c, err::none);
        } else {
            note(err::timeout, "no upgrade within --handshake-timeout");
            end(c, err::timeout);
        }
    }
}

void worker::end(conn& c, err why) {
    if (c.fd < 0) return;
    bool was_open = c.state == conn_state::open || c.state == conn_state::closing;
    if (c.state == conn_state::closing) why = err::none;
    if (why != err::none) st.count(why);
    if (!was_open) {
        if (why != err::none) ++st.failed;  // not a connect we gave up on at the close
        if (c.initial) c.initial = false, resolved.fetch_add(1, std::memory_order_relaxed);
    } else {
        open_now.fetch_sub(1, std::memory_order_relaxed);
    }
    release_gate(c);
    if (c.ssl) SSL_free(c.ssl), c.ssl = nullptr;
    close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    --active_;
    c.state = conn_state::idle;
    c.out.clear();
    c.out_off = 0;
    c.head.clear();
    on_ended(c, why, now_ns());
}

}  // namespace wsbench
