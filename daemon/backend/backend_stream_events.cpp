// backend_stream_events: what the clients' events do to a worker's stream (see backend_stream.h):
// a connect, a message, a disconnect; held while the backend is down and replayed after each
// connect; the clients paused past max_buffer; the 1013 after `timeout` down.
#include <algorithm>

#include "backend/backend_stream.h"
#include "backend/stream_channel.h"
#include "config/gateway_config.h"
#include "hub/delivery.h"
#include "protocol/close_codes.h"

namespace wsgated::backend {

namespace {
// What a held event costs beyond its payload (its header when written), for max_buffer.
constexpr std::size_t held_overhead = 96;
}  // namespace

void backend_stream::opened(stream_channel& ch) {
    ch.open = true;
    ch.slot = open_.size();
    open_.push_back(&ch);
    if (up_) {
        if (ch.events & config::ev_connect) append_connect(ch, false);
        ch.announced = session_;
        return kick();
    }
    ch.waiting_since = clock::now();
    arm_timeout();
}

bool backend_stream::message(stream_channel& ch, std::string_view payload, bool binary) {
    if (!(ch.events & config::ev_message) || ch.abandoned) return true;
    if (up_) {
        append_message_header(out_, ch.id, binary, payload.size());
        out_.append(payload);
        ++out_messages_;
        s_->events_ok->inc();
        kick();
    } else {
        hold({ch.shared_from_this(), false, std::string(payload), binary, 0});
    }
    if (pending() <= s_->max_buffer) return true;
    pause(ch);
    return false;
}

void backend_stream::closed(stream_channel& ch, std::uint16_t code, std::string_view reason) {
    unregister(ch);
    // Closed 1013 for the outage: the backend never hears of it again (a hello resets it).
    if (ch.abandoned || !(ch.events & config::ev_disconnect)) return;
    if (up_) {
        if (ch.announced == session_ || !(ch.events & config::ev_connect)) append_disconnect(out_, ch.id, code, reason);
        return kick();
    }
    // Down: a connection that sent nothing meanwhile is simply not replayed; one whose messages
    // are held is replayed as connect, those messages, disconnect.
    if (ch.held == 0) return;
    if (ch.events & config::ev_connect) {
        std::string frame;
        std::swap(frame, out_);  // append_connect writes to out_ (empty while down)
        append_connect(ch, true);
        std::swap(frame, out_);
        ch.connect_frame = std::move(frame);
    }
    hold({ch.shared_from_this(), true, std::string(reason), false, code});
}

void backend_stream::forget(stream_channel& ch) {
    if (ch.open) unregister(ch);
}

void backend_stream::unregister(stream_channel& ch) {
    if (!ch.open) return;
    ch.open = false;
    stream_channel* last = open_.back();
    open_[ch.slot] = last;
    last->slot = ch.slot;
    open_.pop_back();
}

// `connect` as the backend sees it: the connection's facts and its rooms at this moment.
void backend_stream::append_connect(stream_channel& ch, bool replay) {
    auto c = ch.conn.lock();
    if (!c) {
        out_ += ch.connect_frame;  // closed while the stream was down
        return;
    }
    auto info = c->info();
    auto rooms = s_->delivery->rooms_of(*c, worker_);
    connect_fields f{ch.id, info.route, info.user, info.remote_address, &info.params, &info.headers, &rooms,
                     info.claims_json};
    wsgated::backend::append_connect(out_, f, replay);
}

// After hello: every open connection, then what was held, in the order it happened.
void backend_stream::replay_all() {
    for (auto* ch : open_) {
        if (ch->events & config::ev_connect) append_connect(*ch, true);
        ch->announced = session_;
    }
    for (auto& e : held_) {
        auto& ch = *e.ch;
        --ch.held;
        if (ch.abandoned) {
            if (!e.disconnect) s_->dropped_unavailable->inc();
            continue;
        }
        if (ch.announced != session_) {
            if (ch.events & config::ev_connect) append_connect(ch, true);
            ch.announced = session_;
        }
        if (e.disconnect) {
            append_disconnect(out_, ch.id, e.code, e.payload);
            continue;
        }
        append_message_header(out_, ch.id, e.binary, e.payload.size());
        out_.append(e.payload);
        ++out_messages_;
        s_->events_ok->inc();
    }
    held_.clear();
    held_bytes_ = 0;
}

void backend_stream::hold(held_event e) {
    held_bytes_ += e.payload.size() + held_overhead;
    ++e.ch->held;
    held_.push_back(std::move(e));
}

// TCP backpressure: the client's socket is not read until the stream is half empty.
void backend_stream::pause(stream_channel& ch) {
    if (ch.paused) return;
    ch.paused = true;
    paused_.push_back(ch.shared_from_this());
    s_->pauses->inc();
}

void backend_stream::maybe_resume() {
    if (paused_.empty() || pending() > s_->max_buffer / 2) return;
    auto list = std::move(paused_);
    paused_.clear();
    for (auto& ch : list) {
        ch->paused = false;
        if (!ch->open) continue;
        if (auto c = ch->conn.lock()) c->resume_reading();
    }
}

// While down: the next time a connection will have waited `timeout` (not more often than
// every 100 ms, so a stream of new connections during an outage does not rescan each time).
void backend_stream::arm_timeout() {
    if (up_ || stopped_ || open_.empty() || timeout_armed_) return;
    auto first = std::min_element(open_.begin(), open_.end(), [](auto* a, auto* b) {
                     return a->waiting_since < b->waiting_since;
                 });
    auto at = std::max((*first)->waiting_since + s_->timeout, clock::now() + std::chrono::milliseconds(100));
    timeout_armed_ = true;
    timeout_timer_.expires_at(at);
    timeout_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) { self->on_timeout(ec); });
}

void backend_stream::on_timeout(boost::system::error_code ec) {
    timeout_armed_ = false;
    if (stopped_ || up_) return;
    if (ec) return arm_timeout();  // cancelled by a connect that was lost since
    auto now = clock::now();
    std::vector<std::shared_ptr<stream_channel>> due;
    for (auto* ch : open_)
        if (ch->waiting_since + s_->timeout <= now) due.push_back(ch->shared_from_this());
    for (auto& ch : due) abandon(*ch);
    // Their held messages will never be delivered: counted now, and their bytes freed.
    std::erase_if(held_, [this](const held_event& e) {
        if (!e.ch->abandoned) return false;
        held_bytes_ -= std::min(held_bytes_, e.payload.size() + held_overhead);
        --e.ch->held;
        if (!e.disconnect) s_->dropped_unavailable->inc();
        return true;
    });
    maybe_resume();
    arm_timeout();
}

void backend_stream::abandon(stream_channel& ch) {
    ch.abandoned = true;
    s_->unreachable->inc();
    auto c = ch.conn.lock();
    unregister(ch);
    if (c) c->close(protocol::close_backend_unavailable.code, protocol::close_backend_unavailable.reason);
}

}  // namespace wsgated::backend
