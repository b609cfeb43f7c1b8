// redis_link: see redis_link.h. Every function runs on the link's io_context.
#include "cluster/redis_link.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace wsgated::cluster {
namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

}  // namespace

std::shared_ptr<redis_link> redis_link::create(asio::io_context& ioc, redis_endpoint endpoint,
                                               net::backoff_policy policy, bool subscriber, handlers h) {
    auto self = std::shared_ptr<redis_link>(new redis_link(ioc, std::move(endpoint), policy, subscriber, std::move(h)));
    std::weak_ptr<redis_link> weak = self;
    net::reconnecting_link::handlers lh;
    lh.on_connected = [weak](net::reconnecting_link::socket_type& s) {
        if (auto l = weak.lock()) l->on_connected(s);
    };
    lh.on_down = [weak](error_code ec, std::chrono::milliseconds retry_in) {
        if (auto l = weak.lock(); l && l->handlers_.on_down) l->handlers_.on_down(ec, retry_in);
    };
    self->link_ = net::reconnecting_link::create(ioc, self->endpoint_.target, policy, std::move(lh));
    return self;
}

redis_link::redis_link(asio::io_context& ioc, redis_endpoint endpoint, net::backoff_policy policy, bool subscriber,
                       handlers h)
    : ioc_(ioc),
      endpoint_(std::move(endpoint)),
      subscriber_(subscriber),
      handlers_(std::move(h)),
      hello_deadline_(ioc),
      hello_timeout_(policy.connect_timeout) {}

void redis_link::start() { link_->start(); }

void redis_link::stop() {
    handlers_ = {};
    hello_deadline_.cancel();
    if (tls_) {
        error_code ignored;
        tls_->next_layer().close(ignored);
        tls_.reset();
    }
    link_->stop();
    connected_ = up_ = false;
    drop_callbacks();
}

void redis_link::on_connected(net::reconnecting_link::socket_type& s) {
    conn_ = link_->connection_id();
    connected_ = true;
    reader_.emplace();
    out_.clear();
    refusal_.clear();  // what an earlier connection was refused with no longer applies
    keep_alive(s);
    arm_hello_deadline();
    if (!endpoint_.tls) {
        do_read();
        return do_hello();
    }
    tls_ = std::make_shared<tls_stream>(std::move(s), *endpoint_.tls);
    // SNI for a host name (RFC 6066 forbids it for an address literal), and the name or address
    // the certificate must carry (RFC 6125 rules, OpenSSL's matcher).
    error_code not_ip;
    asio::ip::make_address(endpoint_.target.host, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(tls_->native_handle(), endpoint_.target.host.c_str()))
        return fail(asio::error::invalid_argument, conn_);
    tls_->set_verify_mode(asio::ssl::verify_peer);
    tls_->set_verify_callback(asio::ssl::host_name_verification(endpoint_.target.host));
    tls_->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this(), conn = conn_, keep = tls_](
                                                              error_code ec) { self->on_tls_handshake(conn, ec); });
}

// The subscriber link only reads: without keepalive a connection that died without a reset
// (a NAT entry expired, a VIP moved) would look alive until the next write, which never comes.
// Probes (cluster_bus) catch it within seconds; this lets the kernel end it too.
void redis_link::keep_alive(net::reconnecting_link::socket_type& s) {
    if (endpoint_.target.unix_socket) return;
    int fd = s.native_handle(), on = 1, idle = 10, interval = 5, count = 3;
    unsigned timeout_ms = 20000;  // unacknowledged data for this long also ends it
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof timeout_ms);
}

void redis_link::arm_hello_deadline() {
    hello_deadline_.expires_after(hello_timeout_);
    hello_deadline_.async_wait([self = shared_from_this(), conn = conn_](error_code ec) {
        if (ec || conn != self->conn_ || self->up_) return;
        self->fail(asio::error::timed_out, conn);
    });
}

void redis_link::on_tls_handshake(std::uint64_t conn, error_code ec) {
    if (conn != conn_ || !connected_) return;
    if (ec) return fail(ec, conn);
    do_read();
    do_hello();
}

// AUTH and SELECT when the URL asks for them, then a PING that proves a Redis answers.
void redis_link::do_hello() {
    auto step = [self = shared_from_this(), conn = conn_](const redisReply* r) {
        if (conn != self->conn_) return;
        if (!is_error(r)) return;
        if (r) self->refusal_ = std::string(text_of(r));
        self->fail(asio::error::access_denied, conn);
    };
    if (!endpoint_.password.empty()) {
        if (endpoint_.user.empty()) queue({"AUTH", endpoint_.password});
        else queue({"AUTH", endpoint_.user, endpoint_.password});
        callbacks_.push_back(step);
    }
    if (endpoint_.db != 0 && !subscriber_) {
        std::string db = std::to_string(endpoint_.db);
        queue({"SELECT", db});
        callbacks_.push_back(step);
    }
    queue({"PING"});
    callbacks_.push_back([self = shared_from_this(), conn = conn_](const redisReply* r) { self->on_ready(conn, r); });
}

void redis_link::on_ready(std::uint64_t conn, const redisReply* r) {
    if (conn != conn_ || !connected_) return;
    if (is_error(r)) {
        if (r) refusal_ = std::string(text_of(r));
        return fail(asio::error::access_denied, conn);
    }
    hello_deadline_.cancel();
    up_ = true;
    link_->healthy();  // only now does the backoff start over (reset_on_healthy)
    if (handlers_.on_up) handlers_.on_up();
}

// Redis slow or a path that takes bytes and never answers: what waits is bounded. Past it the
// link is lost like any other (its waiting calls answer 503 now, not minutes later when their
// callers have retried) and reconnects.
constexpr std::size_t max_unsent_bytes = 64 * 1024 * 1024;
constexpr std::size_t max_waiting_replies = 1 << 20;

void redis_link::queue(std::span<const std::string_view> args) {
    if (out_.size() + in_flight_.size() > max_unsent_bytes || callbacks_.size() > max_waiting_replies)
        return fail(asio::error::no_buffer_space, conn_);
    append_command(out_, args);
    schedule_write();
}

void redis_link::command(std::span<const std::string_view> args, reply_fn done) {
    if (up_) queue(args);
    if (!up_) {  // down, or queue() just found the link over its bounds and dropped it
        asio::post(ioc_, [done = std::move(done)] { done(nullptr); });
        return;
    }
    callbacks_.push_back(std::move(done));
}

void redis_link::send(std::span<const std::string_view> args) {
    if (up_) queue(args);
}

// Posted once per turn of the loop: the commands queued meanwhile leave in one write.
void redis_link::schedule_write() {
    if (writing_ || write_scheduled_) return;
    write_scheduled_ = true;
    asio::post(ioc_, [self = shared_from_this()] {
        self->write_scheduled_ = false;
        self->do_write();
    });
}

void redis_link::do_write() {
    if (writing_ || out_.empty() || !connected_) return;
    writing_ = true;
    in_flight_.swap(out_);
    auto done = [self = shared_from_this(), conn = conn_, keep = tls_](error_code ec, std::size_t) {
        self->on_write(conn, ec);
    };
    if (tls_) asio::async_write(*tls_, asio::buffer(in_flight_), std::move(done));
    else asio::async_write(link_->socket(), asio::buffer(in_flight_), std::move(done));
}

void redis_link::on_write(std::uint64_t conn, error_code ec) {
    if (conn != conn_) return;
    writing_ = false;
    in_flight_.clear();
    if (ec) return fail(ec, conn);
    do_write();
}

void redis_link::do_read() {
    auto done = [self = shared_from_this(), conn = conn_, keep = tls_](error_code ec, std::size_t n) {
        self->on_read(conn, ec, n);
    };
    if (tls_) tls_->async_read_some(asio::buffer(read_buf_), std::move(done));
    else link_->socket().async_read_some(asio::buffer(read_buf_), std::move(done));
}

void redis_link::on_read(std::uint64_t conn, error_code ec, std::size_t n) {
    if (conn != conn_ || !connected_) return;
    if (ec) return fail(ec, conn);
    if (!reader_->feed(read_buf_.data(), n)) return fail(asio::error::invalid_argument, conn);
    while (connected_ && conn == conn_) {
        reply_ptr r = reader_->next();
        if (reader_->failed()) return fail(asio::error::invalid_argument, conn);
        if (!r) break;
        dispatch(std::move(r));
    }
    if (connected_ && conn == conn_) do_read();
}

void redis_link::dispatch(reply_ptr r) {
    if (!callbacks_.empty()) {
        reply_fn done = std::move(callbacks_.front());
        callbacks_.pop_front();
        return done(r.get());
    }
    if (subscriber_ && up_) {
        if (handlers_.on_push) handlers_.on_push(*r);
        return;
    }
    fail(asio::error::invalid_argument, conn_);  // a reply nobody asked for: not a Redis we understand
}

void redis_link::fail(error_code ec, std::uint64_t conn) {
    if (conn != conn_ || !connected_) return;
    connected_ = up_ = false;
    writing_ = false;
    out_.clear();
    if (tls_) {
        error_code ignored;
        tls_->next_layer().close(ignored);
        tls_.reset();
    }
    drop_callbacks();
    link_->lost(ec, conn);
}

// Each waiting command learns it failed; run after the state is reset, so a callback that
// queues another command sees the link down.
void redis_link::drop_callbacks() {
    std::deque<reply_fn> waiting;
    waiting.swap(callbacks_);
    for (auto& done : waiting) done(nullptr);
}

}  // namespace wsgated::cluster
