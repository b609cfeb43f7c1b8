// session: see session.h. Message path: do_read → channel::on_message → (backend) send() →
// ws/outbound → the coalescing layer → one socket write for many messages. Its life is one
// phase (handshake → open → closing → finished); the flags beside it are independent of it.
#include "ws/session.h"

#include <spdlog/spdlog.h>

#include "backend/backend_set.h"
#include "protocol/close_codes.h"
#include "protocol/utf8.h"
#include "ws/deflate_offer.h"
#include "ws/session_type.h"
#include "ws/stream_options.h"

namespace wsgated::ws::session_detail {


template <class Stream>
void session<Stream>::run(upgrade_request&& req, std::string subprotocol, int version) {
    worker_.attach(this->shared_from_this());
    ws_.next_layer().set_owner(this->weak_from_this());
    ws_.next_layer().set_read_scratch(worker_.read_scratch());
    ws_.next_layer().unread(early_bytes_);
    std::string().swap(early_bytes_);
    const auto& lim = config().server.limits;
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
        on_control(kind, payload);  // only called inside our own read, which holds a reference
    });
    facts_.forwarded = forwarded_headers(req, route());
    // HyBi-08..12 use the same handshake as version 13; Beast only speaks 13.
    if (version == 8) req.set(beast::http::field::sec_websocket_version, "13");
    bool direct = true;  // we frame data ourselves unless Beast must compress
    bool name_server_window = false;
    if (route().compression.enabled) {
        drop_unanswerable_deflate_offers(req);
        // Beast accepts any offer left: then it must frame (compress) the data itself.
        direct = !offers_deflate(req);
        name_server_window = first_offer_names_server_window(req);
    }
    apply_stream_options(ws_, lim, route().compression, std::move(subprotocol), name_server_window);
    out_.start(direct, [](void* self, error_code ec) { static_cast<session*>(self)->finish(ec); }, this);
    ws_.async_accept(req, beast::bind_front_handler(&session::on_accept, this->shared_from_this()));
}

template <class Stream>
void session<Stream>::on_accept(error_code ec) {
    if (ec) return finish(ec);
    if (worker_.draining()) {  // the drain began while the 101 was being written
        close(protocol::close_going_away.code, protocol::close_going_away.reason);
        return do_read();  // completes with `closed` when the client answers: finish()
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
    spdlog::debug("connection {} open route={} remote={}", facts_.id, route().path, facts_.remote);
    channel_ = snapshot_->backends->find(route().backend)
                   ->open(this->shared_from_this(), {worker_.index(), route().events});
    arm_heartbeat();
    do_read();
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
    if (!heartbeat_.enabled() || phase_.is(phase::finished)) return;
    timer_.expires_at(heartbeat_.deadline());
    timer_.async_wait(beast::bind_front_handler(&session::on_heartbeat, this->shared_from_this()));
}

template <class Stream>
void session<Stream>::on_heartbeat(error_code ec) {
    if (ec || !phase_.is(phase::open)) return;  // once closing, timer_ is the close deadline
    switch (heartbeat_.on_timer(heartbeat::clock::now())) {
    case heartbeat::action::reap:
        // A dead peer will not answer a close frame either: drop the TCP connection.
        spdlog::debug("connection {}: no pong or data within the heartbeat timeout, reaped", facts_.id);
        sv_.state.metrics.heartbeat_timeouts.inc();
        drop_tcp();
        return;
    case heartbeat::action::send_ping:
        if (!pinging_) {
            pinging_ = true;
            ws_.async_ping({}, [self = this->shared_from_this()](error_code) { self->pinging_ = false; });
        }
        break;
    case heartbeat::action::none: break;
    }
    arm_heartbeat();
}

template <class Stream>
void session<Stream>::on_control(websocket::frame_type kind, beast::string_view) {
    auto now = heartbeat::clock::now();
    if (kind == websocket::frame_type::ping && out_.over_queue()) {
        // Beast answers each ping with a pong and, the coalescing layer taking writes at once,
        // reads on: a client that pings and never reads would grow our buffer without bound.
        // Over send_queue it is a slow consumer; a close frame would only queue behind, so the
        // TCP connection goes.
        sv_.state.metrics.slow_consumer_closes.inc();
        spdlog::debug("connection {}: pings while {} bytes wait to be read, dropped", facts_.id,
                      ws_.next_layer().buffered());
        return drop_tcp();
    }
    if (kind == websocket::frame_type::close && ws_.reason().code >= 5000) {
        bad_close_code_ = true;  // Beast checks the rest (1004-1006, 1015, 1016-2999, < 1000)
        ws_.next_layer().replace_close_code(protocol::close_protocol_error.code);
    }
    if (kind != websocket::frame_type::pong) return heartbeat_.on_activity(now);
    if (auto rtt = heartbeat_.on_pong(now))
        sv_.state.metrics.ping_rtt.observe(std::chrono::duration<double>(*rtt).count());
}

template <class Stream>
void session<Stream>::do_read() {
    if (phase_.is(phase::finished)) return;
    reading_ = true;
    ws_.async_read(buffer_, beast::bind_front_handler(&session::on_read, this->shared_from_this()));
    paused_self_.reset();  // the read holds us now
}

template <class Stream>
void session<Stream>::on_read(error_code ec, std::size_t n) {
    reading_ = false;
    if (ec.category() == boost::system::error_code(boost::beast::zlib::error::invalid_block_type).category())
        return fail_inflate(ec);
    if (ec) return finish(ec);
    auto now = heartbeat::clock::now();
    heartbeat_.on_activity(now);
    received_->inc();
    sv_.state.metrics.bytes_received.inc(n);
    if (!rate_.allow(now)) return over_rate(n);
    if (!phase_.is(phase::open)) {  // sent before the client saw our close frame: nowhere to go
        buffer_.consume(n);
        sv_.state.metrics.messages_dropped.with({"connection_closing"}).inc();
        return do_read();
    }
    deliver(n);
}

// Hands one client message to the backend's channel, which says whether to read on now.
template <class Stream>
void session<Stream>::deliver(std::size_t n) {
    if (moving_) {  // between backend definitions (session_reload.cpp): held until the new one opens
        holding_ = true;
        held_ = n;
        paused_self_ = this->shared_from_this();
        return out_.flush_soon();
    }
    auto data = buffer_.cdata();
    std::string_view payload(static_cast<const char*>(data.data()), data.size());
    if (!ws_.got_binary() && protocol::ends_mid_sequence(payload)) {  // Beast misses it after an empty frame
        buffer_.consume(n);
        return close(protocol::close_bad_data.code, protocol::close_bad_data.reason);
    }
    out_.begin_read();
    bool more = channel_->on_message(payload, ws_.got_binary());
    out_.end_read();
    buffer_.consume(n);
    if (more && !reading_) do_read();  // on_message may have closed, which reads already
    if (reading_) return;  // a read that waits for the client flushes the answers
    // Paused by the backend: nothing else may hold us (heartbeat off); flush at turn's end.
    paused_self_ = this->shared_from_this();
    out_.flush_soon();
}

// Compressed data that does not inflate: Beast fails the stream without a close frame, and
// refuses async_close after that. RFC 6455 wants a close: write 1007 ourselves, unless a write
// of ours is in flight (then the bytes could interleave, and only the TCP close is left).
template <class Stream>
void session<Stream>::fail_inflate(error_code ec) {
    static const char frame[] = {'\x88', '\x02', '\x03', '\xEF'};  // close, 1007
    if (out_.writing() || phase_.is(phase::closing)) {  // mid-frame, or our close frame is out (one only)
        drop_tcp();
        return finish(ec);
    }
    ws_.next_layer().append({frame, sizeof frame});
    ws_.next_layer().async_drain([self = this->shared_from_this(), ec](error_code) {
        self->drop_tcp();
        self->finish(ec);
    });
}

// Over messages_per_second: the route's rate_limit says close (1008) or drop (counted).
template <class Stream>
void session<Stream>::over_rate(std::size_t n) {
    buffer_.consume(n);
    sv_.state.metrics.rate_limited.inc();
    if (route().rate_limit == config::rate_limit_action::close)
        close(protocol::close_rate_limited.code, protocol::close_rate_limited.reason);
    else
        sv_.state.metrics.messages_dropped.with({"rate_limited"}).inc();
    if (!reading_) do_read();  // after a close: reads until the client's close frame arrives
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

template <class Stream>
void session<Stream>::close(std::uint16_t code, std::string_view reason) {
    if (phase_.is(phase::closing) || phase_.is(phase::finished)) return;
    bool was_open = phase_.is(phase::open);
    to(phase::closing);
    out_.stop();
    arm_close_deadline();
    websocket::close_reason cr;
    cr.code = code;
    cr.reason.assign(reason.data(), std::min<std::size_t>(reason.size(), cr.reason.max_size()));
    ws_.async_close(cr, beast::bind_front_handler(&session::on_close, this->shared_from_this()));
    if (!reading_ && was_open) do_read();  // the client's close frame arrives through a read
}

// A close frame queued behind a write a slow consumer never reads: past the deadline, drop TCP.
template <class Stream>
void session<Stream>::arm_close_deadline() {
    timer_.expires_after(config().server.limits.handshake_timeout);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
        if (ec || self->phase_.is(phase::finished)) return;
        spdlog::debug("connection {}: close handshake not done in time, dropped", self->facts_.id);
        self->drop_tcp();
    });
}

// The pending read completes with `closed` once the client answers, and calls finish().
template <class Stream>
void session<Stream>::on_close(error_code ec) { if (ec) finish(ec); }

template <class Stream>
void session<Stream>::finish(error_code ec) {
    auto keep = std::move(paused_self_);  // released when this returns
    if (phase_.is(phase::finished)) return;
    to(phase::finished);
    auto reason = ws_.reason();
    std::uint16_t code = reason.code != websocket::close_code::none ? reason.code : 1006;
    if (bad_close_code_) code = protocol::close_protocol_error.code, reason.reason.clear();
    spdlog::debug("connection {} closed code={}{}", facts_.id, code,
                  ec != websocket::error::closed ? " (" + ec.message() + ")" : std::string());
    leave_hub();
    // No channel while moving between backend definitions: the old one said goodbye already,
    // and a message held for the new one goes nowhere (counted).
    if (holding_) sv_.state.metrics.messages_dropped.with({"connection_closed"}).inc();
    if (channel_) channel_->on_close(code, std::string_view(reason.reason.data(), reason.reason.size()));
    if (open_gauge_) open_gauge_->dec();
    out_.drop_all();  // replies still queued can no longer be delivered: counted
    timer_.cancel();
    worker_.detach(this);
}

template class session<plain_socket>;
template class session<tls_stream>;

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
    int version = start.decision.version;
    std::make_shared<session<S>>(std::move(stream), std::move(start))->run(std::move(req), std::move(proto), version);
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

void start_session(tls_stream&& stream, session_start&& start) { launch(std::move(stream), std::move(start)); }

}  // namespace wsgated::ws
