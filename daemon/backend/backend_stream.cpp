// backend_stream: see backend_stream.h. This file is the stream's I/O: the link, the coalesced
// writes, the reads cut into frames and the actions applied; backend_stream_events.cpp is what
// the clients' events do (connect, message, disconnect, replay, holding, pausing, timeout).
#include "backend/backend_stream.h"

#include <algorithm>
#include <cstring>

#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "backend/stream_channel.h"
#include "hub/delivery.h"

namespace wsgated::backend {

using error_code = boost::system::error_code;

namespace {
// Actions whose answer comes later (another worker, wait: written): past this many, the
// backend is not read until some are answered.
constexpr std::size_t max_actions_in_flight = 1024;
constexpr std::size_t read_chunk = 16 * 1024;
}  // namespace

backend_stream::backend_stream(std::shared_ptr<const stream_shared> s, unsigned worker,
                               boost::asio::io_context& ioc)
    : s_(std::move(s)), worker_(worker), ioc_(ioc), timeout_timer_(ioc), retire_timer_(ioc),
      down_since_(clock::now()),
      place_{*s_->delivery, worker, ioc.get_executor(), [this] { return later(current_id_); }} {}

void backend_stream::start() {
    std::weak_ptr<backend_stream> weak = weak_from_this();
    net::reconnecting_link::handlers h;
    h.on_connected = [weak](net::reconnecting_link::socket_type&) {
        if (auto self = weak.lock()) self->on_connected();
    };
    h.on_down = [weak](error_code ec, std::chrono::milliseconds retry) {
        auto self = weak.lock();
        if (!self || self->in_lose_) return;  // a lost stream is counted and logged by lose()
        self->s_->connects_failed->inc();
        std::uint64_t suppressed = 0;
        if (self->s_->log.allow(suppressed))
            spdlog::warn("stream backend {} (worker {}): cannot connect to {}: {}; retrying in {} ms{}",
                         self->s_->name, self->worker_, self->s_->target.text(), ec.message(), retry.count(),
                         suppressed ? fmt::format(" ({} similar lines suppressed)", suppressed) : "");
    };
    // Retries stay well inside `timeout`, so a backend back within it is found before its
    // clients are given up (1013).
    net::backoff_policy policy;
    policy.max = std::clamp(s_->timeout / 4, policy.initial, policy.max);
    policy.connect_timeout = std::max(s_->timeout, std::chrono::milliseconds(1000));
    link_ = net::reconnecting_link::create(ioc_, s_->target, policy, std::move(h));
    link_->start();
}

void backend_stream::retire() {
    retiring_ = true;
    if (!writing_ && out_.empty()) return stop();
    // Let the last events (disconnects) reach the backend, for a bounded time.
    retire_timer_.expires_after(std::chrono::seconds(2));
    retire_timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (!ec) self->stop();
    });
}

void backend_stream::stop() {
    stopped_ = true;
    if (up_) s_->streams->dec();
    up_ = false;
    ++session_;
    release_drain_hold();
    if (link_) link_->stop();
    timeout_timer_.cancel();
    retire_timer_.cancel();
}

// A new connection to the backend: hello, the replay, then what waited (SPEC §4).
void backend_stream::on_connected() {
    if (stopped_ || retiring_) return stop();
    up_ = true;
    link_id_ = link_->connection_id();
    s_->streams->inc();
    s_->connects_ok->inc();
    timeout_timer_.cancel();
    spdlog::info("stream backend {} (worker {}): connected to {}", s_->name, worker_, s_->target.text());
    append_hello(out_, s_->delivery->node_tag(), worker_);
    replay_all();
    kick();
    do_read();  // unless a read of the old connection has yet to complete (it starts one then)
    maybe_resume();
}

// Whatever was written and not yet read by the backend may be lost: at most once, counted.
void backend_stream::lose(error_code ec) {
    if (!up_) return;
    up_ = false;
    ++session_;
    s_->streams->dec();
    s_->connects_lost->inc();
    s_->dropped_lost->inc(out_messages_ + wbuf_messages_);
    out_.clear();
    out_messages_ = wbuf_messages_ = 0;  // wbuf_ itself is freed once its write completes
    rpos_ = rend_ = 0;
    release_drain_hold();
    down_since_ = clock::now();
    for (auto* ch : open_) ch->waiting_since = down_since_;
    arm_timeout();
    std::uint64_t suppressed = 0;
    if (s_->log.allow(suppressed))
        spdlog::warn("stream backend {} (worker {}): stream to {} lost: {}", s_->name, worker_,
                     s_->target.text(), ec.message());
    in_lose_ = true;
    link_->lost(ec, link_id_);
    in_lose_ = false;
    maybe_resume();  // what was queued is gone: paused clients may send again (held, bounded)
}

// Hands everything queued to one write; frames queued meanwhile go in the next one.
void backend_stream::kick() {
    if (writing_ || !up_ || out_.empty()) return;
    std::swap(out_, wbuf_);
    wbuf_messages_ = out_messages_;
    out_messages_ = 0;
    writing_ = true;
    if (!drain_hold_) {  // a drain waits for the disconnects it caused to be written
        drain_hold_ = true;
        s_->state->backend_in_flight.fetch_add(1, std::memory_order_relaxed);
    }
    boost::asio::async_write(link_->socket(), boost::asio::buffer(wbuf_),
                             [self = shared_from_this(), session = session_](error_code ec, std::size_t) {
                                 self->on_write(session, ec);
                             });
}

void backend_stream::on_write(std::uint64_t session, error_code ec) {
    writing_ = false;
    wbuf_messages_ = 0;
    if (wbuf_.capacity() > 4 * max_kept_buffer) std::string().swap(wbuf_);  // after a burst
    else wbuf_.clear();
    if (session != session_) {  // the old connection's write: the new one may go
        maybe_resume();
        return kick();
    }
    if (ec) return lose(ec);
    if (out_.empty()) release_drain_hold();
    maybe_resume();
    kick();
    resume_reading_backend();
    if (retiring_ && !writing_ && out_.empty()) stop();
}

void backend_stream::release_drain_hold() {
    if (!drain_hold_) return;
    drain_hold_ = false;
    s_->state->backend_in_flight.fetch_sub(1, std::memory_order_relaxed);
}

// Room for the next read: at most one frame (header, newline, payload) plus a chunk.
bool backend_stream::make_room() {
    std::size_t cap = max_header_bytes + 1 + s_->max_message_size + read_chunk;
    if (rbuf_.size() - rend_ >= read_chunk) return true;
    if (rpos_ > 0) {
        std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rend_ - rpos_);
        rend_ -= rpos_;
        rpos_ = 0;
    }
    if (rbuf_.size() - rend_ >= read_chunk) return true;
    if (rbuf_.size() >= cap) return rbuf_.size() > rend_;
    rbuf_.resize(std::min(cap, std::max(rbuf_.size() * 2, rend_ + 4 * read_chunk)));
    return true;
}

void backend_stream::do_read() {
    if (reading_ || !up_ || read_paused()) return;
    if (rpos_ == rend_ && rbuf_.size() > 4 * max_kept_buffer) {  // after one big frame
        std::vector<char>().swap(rbuf_);
        rpos_ = rend_ = 0;
    }
    if (!make_room()) return protocol_error(frame_error::size_too_large);  // cannot happen: parse bounds it
    reading_ = true;
    link_->socket().async_read_some(
        boost::asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_),
        [self = shared_from_this(), session = session_](error_code ec, std::size_t n) {
            self->on_read(session, ec, n);
        });
}

void backend_stream::on_read(std::uint64_t session, error_code ec, std::size_t n) {
    reading_ = false;
    if (session != session_) return do_read();  // the old connection's read: start the new one's
    if (ec) return lose(ec);
    rend_ += n;
    process();
}

// Applies every complete frame read, in order, then reads on (unless answers pile up).
void backend_stream::process() {
    while (up_ && !read_paused()) {
        auto r = reader_.parse({rbuf_.data() + rpos_, rend_ - rpos_}, s_->max_message_size);
        if (r.st == frame_reader::status::need_more) break;
        if (r.st == frame_reader::status::error) return protocol_error(r.error);
        rpos_ += r.consumed;  // the payload stays where it is until the next read
        apply(*r.header, r.payload);
    }
    if (rpos_ == rend_) rpos_ = rend_ = 0;
    do_read();
}

// The frame boundary is lost: the only way back is a new connection (and a replay).
void backend_stream::protocol_error(frame_error e) {
    s_->protocol_error(label(e));
    std::uint64_t suppressed = 0;
    if (s_->log.allow(suppressed))
        spdlog::warn("stream backend {} (worker {}): bad frame ({}); reconnecting", s_->name, worker_, label(e));
    lose(boost::system::errc::make_error_code(boost::system::errc::protocol_error));
}

void backend_stream::apply(const boost::json::object& header, std::string_view payload) {
    action a;
    if (auto e = decode_action(header, payload, a); e != action_error::none) {
        s_->protocol_error(label(e));
        if (a.id) append_answer(boost::json::serialize(*a.id), {e, std::nullopt});
        return;
    }
    current_id_ = a.id;
    auto r = apply_action(a, place_);
    if (!r) return;  // answered later
    if (r->error != action_error::none) s_->protocol_error(label(r->error));
    if (a.id) append_answer(boost::json::serialize(*a.id), *r);
}

// For an answer that comes later: the id is kept as text (the header it came in is reused).
action_answer backend_stream::later(const boost::json::value* id) {
    ++actions_in_flight_;
    std::string id_json = id ? boost::json::serialize(*id) : std::string();
    return [self = shared_from_this(), session = session_, id_json = std::move(id_json)](action_result r) {
        --self->actions_in_flight_;
        if (r.error != action_error::none) self->s_->protocol_error(label(r.error));
        // An ack belongs to the connection that carried the action; a new one started afresh.
        if (!id_json.empty() && session == self->session_ && self->up_) self->append_answer(id_json, r);
        self->resume_reading_backend();
    };
}

void backend_stream::append_answer(std::string_view id_json, const action_result& r) {
    if (!up_) return;
    append_ack(out_, id_json, r.error, r.count);
    kick();
}

// The backend is not read while answers to it pile up: clients are paused at max_buffer, so
// past twice that the rest is acks (and replays).
bool backend_stream::read_paused() const {
    return actions_in_flight_ >= max_actions_in_flight || out_.size() + wbuf_.size() > 2 * s_->max_buffer;
}

void backend_stream::resume_reading_backend() {
    if (up_ && !reading_ && !read_paused()) process();
}

}  // namespace wsgated::backend
