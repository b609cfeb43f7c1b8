// outbound: one session's way out to the client: the frames it sends, the bound on what waits
// (server.limits.send_queue), the written callbacks, and when the coalescing layer writes.
//
// Two paths. Direct (no permessage-deflate): each message is framed here (ws/server_frame) and
// appended to the coalescing layer under the websocket stream, no allocation and no operation
// per message. Deflate: Beast compresses and frames, one async_write at a time from a queue of
// shared buffers. Either way what is queued and not yet taken by the socket stays within
// send_queue: over it, send() answers `over_limit` and the session closes 1008.
//
// A class template over the session's websocket stream, instantiated only by ws/session.cpp
// (Beast's websocket templates stay in one translation unit). Lives inside its session, on the
// session's worker; the coalescing layer's owner keeps the session alive while a write is in
// flight.
#pragma once

#include <algorithm>
#include <memory>

#include <boost/asio/buffer.hpp>

#include "core/connection.h"
#include "metrics/gateway_metrics.h"
#include "ws/lazy_fifo.h"
#include "ws/server_frame.h"

namespace wsgated::ws {

template <class WsStream>
class outbound {
public:
    enum class verdict { queued, over_limit };
    using error_code = boost::system::error_code;
    // A deflate write failed: the session ends. A plain function and its context, not a
    // std::function: 16 bytes less on every connection (idle memory is a product figure).
    using failed_fn = void (*)(void* context, error_code);

    outbound(WsStream& ws, metrics::gateway_metrics& m, std::size_t send_queue)
        : ws_(ws), metrics_(m), send_queue_(send_queue) {}

    // Before the 101: whether we frame data ourselves, and what ends the session when a write
    // fails. The coalescing layer's owner keeps the session alive while a write is in flight.
    void start(bool direct, failed_fn on_failed, void* context) {
        direct_ = direct;
        on_failed_ = on_failed;
        context_ = context;
    }

    // When the connection opens: its route's messages_sent cell (a lookup takes a lock).
    void set_sent_counter(metrics::counter* sent) { sent_ = sent; }
    // A reload's send_queue. Lowered below what this connection holds now, it does not cut the
    // connection: the bound stays at what is held until that drains under the new value.
    void set_send_queue(std::size_t n) {
        target_ = n;
        send_queue_ = std::max(n, held());
    }
    std::size_t send_queue() const { return send_queue_; }
    // More waits behind the write in flight than send_queue allows (a client that pings and
    // never reads: each pong is queued).
    bool over_queue() const { return waiting() > send_queue_; }

    // over_limit: the message was dropped (counted; a written callback hears false) and the
    // session must close the client as a slow consumer.
    verdict send(core::message m) {
        if (direct_) return send_direct(*m.data, m.binary, std::move(m.on_written), &m.data);
        if (!fits(m.data->size())) return over_limit(std::move(m.on_written));
        queued_bytes_ += m.data->size();
        queue_.push_back(std::move(m));
        if (!writing_) do_write();
        return verdict::queued;
    }
    // A payload valid only during the call: copied straight into the output on the direct path.
    verdict send_copy(std::string_view payload, bool binary) {
        if (direct_) return send_direct(payload, binary, nullptr);
        return send(core::message{std::make_shared<const std::string>(payload), binary, nullptr});
    }

    // While the session hands a client message to its backend: replies wait for the next read,
    // which flushes them all in one write (coalescing_stream's cork).
    void begin_read() { in_read_ = true; }
    void end_read() { in_read_ = false; }
    // Without a read to follow (a paused backend): flush at the end of this turn.
    void flush_soon() { ws_.next_layer().flush_soon(); }

    // A message the session cannot take (it is not open): dropped, counted, told.
    void refuse(core::message::written_fn on_written) {
        metrics_.messages_dropped.with({"connection_closing"}).inc();
        if (on_written) on_written(false);
    }

    bool writing() const { return writing_; }
    // Stops further writes (the session is closing): what is queued stays for drop_all().
    void stop() { stopped_ = true; }
    // The connection ended: queued messages can no longer be delivered; say so in the metrics
    // and to whoever waits for one to be written.
    void drop_all() {
        stopped_ = true;
        auto left = std::move(queue_);
        queue_.clear();
        queued_bytes_ = 0;
        if (!left.empty()) metrics_.messages_dropped.with({"connection_closed"}).inc(left.size());
        for (auto& m : left)
            if (m.on_written) m.on_written(false);
    }

private:
    // Framed here and appended to the coalescing layer: no allocation, no operation per message.
    // A shared payload (fan-out: the same buffer for every member) is referenced, not copied,
    // unless it is so small that the reference would cost as much as the copy.
    verdict send_direct(std::string_view payload, bool binary, core::message::written_fn done,
                        std::shared_ptr<const std::string>* shared = nullptr) {
        if (!fits(payload.size())) return over_limit(std::move(done));
        auto header = data_frame_header(binary, payload.size());
        auto& out = ws_.next_layer();
        out.append({reinterpret_cast<const char*>(header.bytes.data()), header.size});
        if (shared && payload.size() >= shared_min) out.append_shared(std::move(*shared), std::move(done));
        else out.append(payload, std::move(done));
        sent_->inc();
        metrics_.bytes_sent.inc(payload.size());
        // Outside a read (a reply, a publish) the write starts now: the first member of a room
        // hears first, and what follows while it is in flight joins the next write.
        if (!in_read_) out.flush();
        return verdict::queued;
    }

    verdict over_limit(core::message::written_fn on_written) {
        metrics_.slow_consumer_closes.inc();
        metrics_.messages_dropped.with({"slow_consumer"}).inc();
        if (on_written) on_written(false);
        return verdict::over_limit;
    }

    // Never an unbounded buffer: what waits behind the write in flight stays within
    // server.limits.send_queue. The write in flight is not counted, so one message of any size
    // the limits let in (max_message_size, a publish's body) always gets through on its own.
    std::size_t held() const { return queued_bytes_ + ws_.next_layer().buffered(); }
    std::size_t waiting() const {
        std::size_t writing = ws_.next_layer().in_flight() + (writing_ && !queue_.empty() ? queue_.front().data->size() : 0);
        return held() - std::min(held(), writing);
    }
    bool fits(std::size_t n) {
        if (send_queue_ > target_ && held() <= target_) send_queue_ = target_;  // drained: the reload's bound
        return held() == 0 || waiting() + n <= send_queue_;
    }

    void do_write() {
        writing_ = true;
        const auto& m = queue_.front();
        ws_.binary(m.binary);
        // The handler keeps the buffer alive: drop_all() may clear the queue while this write runs.
        ws_.async_write(boost::asio::buffer(*m.data),
                        [this, owner = ws_.next_layer().owner(), keep = m.data](error_code ec, std::size_t) { on_write(ec); });
    }

    void on_write(error_code ec) {
        writing_ = false;
        if (queue_.empty()) return;  // dropped: already counted
        if (ec) return on_failed_(context_, ec);
        std::size_t size = queue_.front().data->size();
        queued_bytes_ -= size;
        sent_->inc();
        metrics_.bytes_sent.inc(size);
        // Popped before the callback runs: it may send (and so push or start the next write).
        auto done = std::move(queue_.front().on_written);
        queue_.pop_front();
        // Beast's write ends when the coalescing layer has the bytes; the callback is promised the
        // socket, so it waits there for them.
        if (done) ws_.next_layer().append({}, std::move(done));
        if (!queue_.empty() && !stopped_ && !writing_) do_write();
    }

    // Below this a shared payload is copied: a reference and its gathered piece cost ~40 bytes.
    static constexpr std::size_t shared_min = 128;

    WsStream& ws_;
    metrics::gateway_metrics& metrics_;
    std::size_t send_queue_;
    std::size_t target_ = send_queue_;  // a lowered send_queue, reached once the queue drains under it
    metrics::counter* sent_ = nullptr;
    failed_fn on_failed_ = nullptr;
    void* context_ = nullptr;
    lazy_fifo<core::message> queue_;  // permessage-deflate only
    std::size_t queued_bytes_ = 0;
    bool direct_ = true;
    bool writing_ = false;
    bool in_read_ = false;
    bool stopped_ = false;
};

}  // namespace wsgated::ws
