// session: see session.h. Message path: do_read → the coalescing layer's receive →
// ws/frame_reader → channel::on_message → (backend) send() → ws/outbound → the coalescing layer
// → one socket write for many messages. Its life is one phase (handshake → open → closing →
// finished); the flags beside it are independent of it. Closing: ws/session_close.cpp.
#include "ws/session.h"

#include <spdlog/spdlog.h>

#include "backend/backend_set.h"
#include "protocol/close_codes.h"
#include "ws/accept_response.h"
#include "ws/deflate_negotiation.h"
#include "ws/session_type.h"

namespace wsgated::ws::session_detail {

template <class Stream>
void session<Stream>::run(upgrade_request&& req, std::string subprotocol) {
    worker_.attach(this->shared_from_this());
    io_.set_owner(this->weak_from_this());
    io_.set_read_scratch(worker_.read_scratch());
    facts_.set_forwarded(forwarded_headers(req, route()));
    std::string extensions;
    negotiate(req, extensions);
    // HyBi-08..12 clients take the same answer as version 13 (their frames are the same).
    // Written now if the socket takes it: an idle connection keeps no buffer that held it.
    io_.append_through(accept_response(req[boost::beast::http::field::sec_websocket_key], subprotocol, extensions), {});
    io_.flush();
    open();
}

// permessage-deflate (RFC 7692): the first offer the route's settings can accept, if any.
template <class Stream>
void session<Stream>::negotiate(const upgrade_request& req, std::string& extensions) {
    const auto& c = route().compression;
    if (!c.enabled) return;
    std::string offers;
    for (auto [it, end] = req.equal_range(boost::beast::http::field::sec_websocket_extensions); it != end; ++it)
        offers.append(offers.empty() ? "" : ", ").append(it->value());
    if (offers.empty()) return;
    auto answer = negotiate_deflate(offers, c);
    if (!answer.params.enabled) return;
    const auto& p = answer.params;
    inflater_ = std::make_unique<inflater>(std::max(9, p.client_max_window_bits), p.client_no_context_takeover);
    deflater_ = std::make_unique<deflater>(p.server_max_window_bits, c.level, c.mem_level, p.server_no_context_takeover);
    reader_.inflate_with(inflater_.get());
    out_.compress_with(deflater_.get(), c.threshold);
    extensions = std::move(answer.extension);
}

template <class Stream>
void session<Stream>::open() {
    if (worker_.draining()) {  // the drain began while the handshake ran
        close(protocol::close_going_away.code, protocol::close_going_away.reason);
        return do_read();  // the client's close frame ends it
    }
    // A reload that reached this worker while the handshake ran: taken before anything opens,
    // so the old backend never hears of this connection; its route gone: 1012 right away.
    if (const auto& now = worker_.snapshot(); now && now != snapshot_ && !adopt(now)) {
        close(protocol::close_service_restart.code, protocol::close_service_restart.reason);
        return do_read();
    }
    auto& m = sv_.state.metrics;
    std::string_view label = route().path;
    open_gauge_ = &m.connections.with({label});
    received_ = &m.messages_received.with({label});
    out_.set_sent_counter(&m.messages_sent.with({label}));
    m.connections_total.with({label}).inc();
    open_gauge_->inc();
    to(phase::open);
    facts_.connected_at = std::chrono::system_clock::now();
    enter_hub();
    // Logged once the id is usable by the control API.
    spdlog::debug("connection {} open route={} remote={}", id(), route().path, facts_.remote);
    channel_ = snapshot_->backends->find(route().backend)
                   ->open(this->shared_from_this(), {worker_.index(), route().events});
    arm_heartbeat();
    if (!reading_) do_read();  // the channel's hello may have closed (which reads already)
}

// Visible to the control API and to room publishes from here on; joins the route's rooms.
template <class Stream>
void session<Stream>::enter_hub() {
    sv_.delivery.enter(*this, worker_.index());
    in_hub_ = true;
    for (const auto& room : facts_.initial_rooms()) sv_.delivery.join(*this, worker_.index(), room);
}

template <class Stream>
void session<Stream>::leave_hub() {
    if (!in_hub_) return;
    in_hub_ = false;
    sv_.delivery.leave_all(*this, worker_.index());  // leaves every room
}

template <class Stream>
void session<Stream>::arm_heartbeat() {
    if (!heartbeat_.enabled() || !phase_.is(phase::open)) return;
    timer_.expires_at(heartbeat_.deadline());
    timer_.async_wait([self = this->shared_from_this()](error_code ec) { self->on_heartbeat(ec); });
}

template <class Stream>
void session<Stream>::on_heartbeat(error_code ec) {
    if (ec || !phase_.is(phase::open)) return;  // once closing, timer_ is the close deadline
    switch (heartbeat_.on_timer(heartbeat::clock::now())) {
    case heartbeat::action::reap:
        // A dead peer will not answer a close frame either: drop the TCP connection.
        spdlog::debug("connection {}: no pong or data within the heartbeat timeout, reaped", id());
        sv_.state.metrics.heartbeat_timeouts.inc();
        return drop_tcp();
    case heartbeat::action::send_ping: out_.send_control(ping_frame({}).view()); break;
    case heartbeat::action::none: io_.release_buffers(); break;
    }
    arm_heartbeat();
}

template <class Stream>
void session<Stream>::do_read() {
    if (phase_.is(phase::finished)) return;
    reading_ = true;
    io_.async_receive([self = this->shared_from_this()](error_code ec, std::span<char> bytes) {
        self->on_receive(ec, bytes);
    });
    paused_self_.reset();  // the receive holds us now
}

template <class Stream>
void session<Stream>::on_receive(error_code ec, std::span<char> bytes) {
    reading_ = false;
    if (ec) return finish(ec);  // EOF after our teardown, a reset, or drop_tcp
    if (tearing_down_) return do_read();  // until the client's EOF: nothing more is read
    consume(bytes);
}

// Every event in what one receive brought, then the next receive (unless a backend paused
// reading: the rest waits in the coalescing layer; or the connection ends).
template <class Stream>
void session<Stream>::consume(std::span<char> in) {
    reading_ = true;  // a close() or resume_reading() meanwhile must not start a second receive
    out_.begin_read();
    step s = step::go_on;
    while (s == step::go_on) {
        auto ev = reader_.next(in);
        if (ev.what == frame_reader::kind::need_more) break;
        s = on_event(ev);
    }
    out_.end_read();
    reading_ = false;
    if (s == step::stop) return;
    if (s == step::go_on) return do_read();
    io_.keep_unread(in);  // paused by the backend: nothing else may hold us (heartbeat off)
    paused_self_ = this->shared_from_this();
    out_.flush_soon();
}

template <class Stream>
typename session<Stream>::step session<Stream>::on_event(const frame_reader::event& ev) {
    using kind = frame_reader::kind;
    switch (ev.what) {
    case kind::message: return on_message(ev.payload, ev.binary);
    case kind::ping: return on_ping(ev.payload);
    case kind::pong: on_pong(); return step::go_on;
    case kind::close: on_client_close(ev.code, ev.payload); return step::stop;
    case kind::fail: on_client_error(ev.code, ev.why); return step::stop;
    case kind::need_more: break;
    }
    return step::go_on;
}

template <class Stream>
typename session<Stream>::step session<Stream>::on_message(std::string_view payload, bool binary) {
    auto now = heartbeat::clock::now();
    heartbeat_.on_activity(now);
    received_->inc();
    sv_.state.metrics.bytes_received.inc(payload.size());
    if (!rate_.allow(now)) return over_rate();
    if (!phase_.is(phase::open)) {  // sent before the client saw our close frame: nowhere to go
        sv_.state.metrics.messages_dropped.with({"connection_closing"}).inc();
        return step::go_on;
    }
    return deliver(payload, binary);
}

// Hands one client message to the backend's channel, which says whether to read on now.
template <class Stream>
typename session<Stream>::step session<Stream>::deliver(std::string_view payload, bool binary) {
    if (moving_) {  // between backend definitions (session_reload.cpp): held until the new one opens
        held_ = std::make_unique<std::string>(payload);
        held_binary_ = binary;
        return step::pause;
    }
    bool more = channel_->on_message(payload, binary);
    if (phase_.is(phase::finished)) return step::stop;
    return more ? step::go_on : step::pause;
}

// Answered with a pong; a client that pings and never reads would grow our buffer without
// bound: over send_queue it is a slow consumer, and a close frame would only queue behind, so
// the TCP connection goes.
template <class Stream>
typename session<Stream>::step session<Stream>::on_ping(std::string_view payload) {
    heartbeat_.on_activity(heartbeat::clock::now());
    if (!phase_.is(phase::open)) return step::go_on;  // nothing follows our close frame
    if (out_.over_queue()) {
        sv_.state.metrics.slow_consumer_closes.inc();
        spdlog::debug("connection {}: pings while {} bytes wait to be read, dropped", id(), io_.buffered());
        drop_tcp();
        finish(boost::asio::error::connection_aborted);
        return step::stop;
    }
    out_.send_control(pong_frame(payload).view());
    return step::go_on;
}

template <class Stream>
void session<Stream>::on_pong() {
    auto now = heartbeat::clock::now();
    heartbeat_.on_activity(now);
    if (auto rtt = heartbeat_.on_pong(now))
        sv_.state.metrics.ping_rtt.observe(std::chrono::duration<double>(*rtt).count());
}

// Over messages_per_second: the route's rate_limit says close (1008) or drop (counted).
template <class Stream>
typename session<Stream>::step session<Stream>::over_rate() {
    sv_.state.metrics.rate_limited.inc();
    if (route().rate_limit == config::rate_limit_action::close)
        close(protocol::close_rate_limited.code, protocol::close_rate_limited.reason);
    else
        sv_.state.metrics.messages_dropped.with({"rate_limited"}).inc();
    return step::go_on;  // after a close: reads until the client's close frame arrives
}

// Refused while not open; over send_queue: dropped (counted, a written callback told), 1008.
template <class Stream>
void session<Stream>::send(backend::message m) {
    if (!accepting_sends()) return out_.refuse(std::move(m.on_written));
    if (out_.send(std::move(m)) == out_verdict::over_limit) slow_consumer();
}

template <class Stream>
void session<Stream>::send_copy(std::string_view payload, bool binary) {
    if (!accepting_sends()) return out_.refuse(nullptr);
    if (out_.send_copy(payload, binary) == out_verdict::over_limit) slow_consumer();
}

template class session<plain_socket>;
template class session<tls_socket>;

}  // namespace wsgated::ws::session_detail

namespace wsgated::ws {
namespace {

using session_detail::session;
using error_code = boost::system::error_code;

// What the session takes from start apart from the stream: the request and the upgrade's answer.
template <class S>
void launch(S&& stream, session_start&& start) {
    auto req = std::move(start.request);
    auto proto = std::move(start.decision.subprotocol);
    std::make_shared<session<S>>(std::move(stream), std::move(start))->run(std::move(req), std::move(proto));
}

}  // namespace

// A plain session runs on the bare socket (ws/plain_socket says why).
void start_session(plain_stream&& stream, session_start&& start) {
    error_code ec;
    auto socket = adopt_socket(std::move(stream), start.worker->ioc(), ec);
    if (ec) {  // the client is already gone; its slot is released with `start`
        spdlog::debug("session from {}: {}", start.remote, ec.message());
        return;
    }
    launch(std::move(socket), std::move(start));
}

// A TLS session too: its engine goes along (ws/tls_socket), the handshake's buffers do not.
void start_session(tls_stream&& stream, session_start&& start) {
    error_code ec;
    auto socket = adopt_socket(std::move(stream.next_layer()), start.worker->ioc(), ec);
    if (ec) {
        spdlog::debug("session from {}: {}", start.remote, ec.message());
        return;
    }
    launch(tls_socket(std::move(socket), std::move(stream.engine())), std::move(start));
}

}  // namespace wsgated::ws
