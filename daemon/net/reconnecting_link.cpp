// reconnecting_link: see reconnecting_link.h.
//
// One attempt = (resolve, for TCP) + connect to each resolved address in order, all under one
// attempt timer. Whatever ends an attempt or a connection (success, failure, timeout, lost(),
// stop()) bumps generation_ first, so the completions still queued for it return untouched;
// that is also how a timeout "cancels" a resolve that the resolver thread cannot interrupt.
// Every function here runs on the link's io_context.
#include "net/reconnecting_link.h"

#include <sys/un.h>

#include <algorithm>
#include <cmath>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>

namespace wsgated::net {
namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using std::chrono::milliseconds;

backoff_policy clamped(backoff_policy p) {
    p.initial = std::max(p.initial, milliseconds(0));
    p.max = std::max(p.max, p.initial);
    p.multiplier = std::max(p.multiplier, 1.0);
    p.jitter = std::clamp(p.jitter, 0.0, 1.0);
    p.connect_timeout = std::max(p.connect_timeout, milliseconds(0));
    return p;
}

// random_device may be slow or fixed on some platforms; mixing in the clock keeps two links
// created in one process from drawing the same waits even then.
std::minstd_rand seeded_rng() {
    std::random_device rd;
    auto t = static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return std::minstd_rand(rd() ^ t);
}

}  // namespace

std::string link_target::text() const {
    if (unix_socket) return "unix:" + path;
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

std::shared_ptr<reconnecting_link> reconnecting_link::create(asio::io_context& ioc, link_target target,
                                                             backoff_policy policy, handlers h) {
    // Not make_shared: the constructor is private so that every link is owned by a shared_ptr
    // (its handlers bind shared_from_this()).
    return std::shared_ptr<reconnecting_link>(
        new reconnecting_link(ioc, std::move(target), policy, std::move(h)));
}

reconnecting_link::reconnecting_link(asio::io_context& ioc, link_target target, backoff_policy policy,
                                     handlers h)
    : ioc_(ioc), target_(std::move(target)), policy_(clamped(policy)), handlers_(std::move(h)),
      socket_(ioc), resolver_(ioc), attempt_timer_(ioc), retry_timer_(ioc), rng_(seeded_rng()),
      delay_ms_(static_cast<double>(policy_.initial.count())) {}

milliseconds reconnecting_link::next_delay() const { return milliseconds(std::llround(delay_ms_)); }

void reconnecting_link::start() {
    if (state_ != state::idle) return;
    do_attempt();
}

void reconnecting_link::lost(error_code ec) { lost(ec, connection_id_); }

void reconnecting_link::lost(error_code ec, std::uint64_t connection_id) {
    if (state_ != state::connected || connection_id != connection_id_) return;
    go_down(ec);
}

void reconnecting_link::stop() {
    if (state_ == state::stopped) return;
    state_ = state::stopped;
    retire();
    retry_timer_.cancel();
    // Handlers are invoked through copies, so clearing them here is safe inside one of them.
    handlers_ = {};
}

// Starts one attempt: from start() or the retry timer. Never calls a handler synchronously.
void reconnecting_link::do_attempt() {
    state_ = state::connecting;
    auto gen = ++generation_;
    attempt_timer_.expires_after(policy_.connect_timeout);
    attempt_timer_.async_wait(
        [self = shared_from_this(), gen](error_code ec) { self->on_attempt_timeout(gen, ec); });
    if (!target_.unix_socket) return do_resolve(gen);
    endpoints_.clear();
    next_endpoint_ = 0;
    // The endpoint's constructor throws on a path longer than sun_path: report it as a value.
    if (target_.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
        asio::post(ioc_, [self = shared_from_this(), gen] {
            if (!self->stale(gen)) self->fail(asio::error::name_too_long);
        });
        return;
    }
    endpoints_.emplace_back(asio::local::stream_protocol::endpoint(target_.path));
    do_connect(gen);
}

// Asio resolves on its own thread: a slow DNS server never blocks the worker.
void reconnecting_link::do_resolve(std::uint64_t gen) {
    resolver_.async_resolve(target_.host, target_.port,
                            [self = shared_from_this(), gen](
                                error_code ec, const asio::ip::tcp::resolver::results_type& r) {
                                self->on_resolve(gen, ec, r);
                            });
}

void reconnecting_link::on_resolve(std::uint64_t gen, error_code ec,
                                   const asio::ip::tcp::resolver::results_type& results) {
    if (stale(gen)) return;
    if (ec) return fail(ec);
    endpoints_.clear();
    next_endpoint_ = 0;
    for (const auto& r : results) endpoints_.emplace_back(r.endpoint());
    if (endpoints_.empty()) return fail(asio::error::host_not_found);
    do_connect(gen);
}

// Connects to endpoints_[next_endpoint_]; a closed socket is opened by async_connect with the
// endpoint's family, so one socket_ serves IPv4, IPv6 and Unix alike.
void reconnecting_link::do_connect(std::uint64_t gen) {
    error_code ignored;
    socket_.close(ignored);
    socket_.async_connect(endpoints_[next_endpoint_],
                          [self = shared_from_this(), gen](error_code ec) { self->on_connect(gen, ec); });
}

void reconnecting_link::on_connect(std::uint64_t gen, error_code ec) {
    if (stale(gen)) return;
    // A name may resolve to several addresses (::1 and 127.0.0.1): try the next before failing.
    if (ec && ++next_endpoint_ < endpoints_.size()) return do_connect(gen);
    if (ec) return fail(ec);
    established();
}

void reconnecting_link::on_attempt_timeout(std::uint64_t gen, error_code ec) {
    if (ec || stale(gen)) return;  // cancelled: the attempt ended before its bound
    fail(asio::error::timed_out);
}

void reconnecting_link::on_retry_timer(std::uint64_t gen, error_code ec) {
    if (ec || stale(gen)) return;
    do_attempt();
}

void reconnecting_link::established() {
    ++generation_;  // the attempt timer's pending wait no longer applies
    attempt_timer_.cancel();
    if (!target_.unix_socket) {
        // The users send small frames (stream events, Redis commands): they must not wait for
        // Nagle + delayed ACK.
        error_code ignored;
        socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    if (!policy_.reset_on_healthy) healthy();
    state_ = state::connected;
    ++connection_id_;
    auto cb = handlers_.on_connected;  // a copy: the handler may call stop()
    if (cb) cb(socket_);
}

void reconnecting_link::healthy() {
    failures_ = 0;
    delay_ms_ = static_cast<double>(policy_.initial.count());
}

void reconnecting_link::fail(error_code ec) {
    ++failures_;
    go_down(ec);
}

// Shared by a failed attempt and a lost connection: close, schedule the next attempt, report.
// The timer is armed before on_down runs so that a stop() inside it finds it to cancel.
void reconnecting_link::go_down(error_code ec) {
    retire();
    auto wait = draw_wait();
    state_ = state::waiting;
    retry_timer_.expires_after(wait);
    retry_timer_.async_wait(
        [self = shared_from_this(), gen = generation_](error_code e) { self->on_retry_timer(gen, e); });
    auto cb = handlers_.on_down;  // a copy: the handler may call stop()
    if (cb) cb(ec, wait);
}

// Ends whatever is in progress: its completions become stale, its resources are released.
void reconnecting_link::retire() {
    ++generation_;
    attempt_timer_.cancel();
    resolver_.cancel();
    error_code ignored;
    socket_.close(ignored);
}

// Draws this wait from [delay * (1 - jitter), delay] and grows the delay for the next one.
milliseconds reconnecting_link::draw_wait() {
    double delay = delay_ms_;
    delay_ms_ = std::min(delay * policy_.multiplier, static_cast<double>(policy_.max.count()));
    auto high = std::llround(delay);
    auto low = std::llround(delay * (1.0 - policy_.jitter));
    if (low >= high) return milliseconds(high);
    return milliseconds(std::uniform_int_distribution<long long>(low, high)(rng_));
}

}  // namespace wsgated::net
