// outbound: one session's way out to the client: the frames it sends, the bound on what waits
// (server.limits.send_queue), the written callbacks, and when the coalescing layer writes.
//
// Each message is framed here (ws/server_frame) and appended to the coalescing layer under the
// session: no allocation and no operation per message. A shared payload (a publish) is
// referenced, not copied; a large reply that is a view of the receive (an echo, a stream
// backend's reply) is written through, not copied, when no write is in flight. With permessage-deflate, a message from the route's `threshold` on is
// compressed first (ws/deflater, into this thread's scratch) and its compressed bytes copied in;
// smaller ones go as they are (RFC 7692 §6 lets a server send any message uncompressed). What
// is queued and not yet taken by the socket stays within send_queue: over it, send() answers
// `over_limit` and the session closes 1008.
//
// A class template over the coalescing layer, instantiated only by ws/session.cpp. Lives inside
// its session, on the session's worker.
#pragma once

#include <algorithm>
#include <memory>
#include <string>

#include "core/connection.h"
#include "metrics/gateway_metrics.h"
#include "ws/deflater.h"
#include "ws/server_frame.h"

namespace wsgated::ws {

template <class Out>
class outbound {
public:
    enum class verdict { queued, over_limit };

    outbound(Out& out, metrics::gateway_metrics& m, std::size_t send_queue)
        : out_(out), metrics_(m), send_queue_(send_queue), target_(send_queue) {}

    // The handshake agreed on permessage-deflate: messages of `threshold` bytes and more are
    // compressed with `d` (the session's, which outlives this).
    void compress_with(deflater* d, std::uint64_t threshold) {
        deflater_ = d;
        threshold_ = threshold;
    }

    // When the connection opens: its route's messages_sent cell (a lookup takes a lock).
    void set_sent_counter(metrics::counter* sent) { sent_ = sent; }
    // A reload's send_queue. Lowered below what this connection holds now, it does not cut the
    // connection: the bound stays at what is held until that drains under the new value.
    void set_send_queue(std::size_t n) {
        target_ = n;
        send_queue_ = std::max(n, out_.buffered());
    }
    std::size_t send_queue() const { return send_queue_; }
    // More waits behind the write in flight than send_queue allows (a client that pings and
    // never reads: each pong is queued).
    bool over_queue() const { return waiting() > send_queue_; }

    // over_limit: the message was dropped (counted; a written callback hears false) and the
    // session must close the client as a slow consumer.
    verdict send(core::message m) { return send_frame(*m.data, m.binary, std::move(m.on_written), &m.data); }
    // A payload valid only during the call: copied into the output; a large one written at
    // once when it can be, and only what the socket does not take copied.
    verdict send_copy(std::string_view payload, bool binary) { return send_frame(payload, binary, nullptr); }

    // A control frame (pong, ping, close): small, never refused (the session bounds pongs with
    // over_queue()).
    void send_control(std::string_view frame) {
        out_.append(frame);
        if (!in_read_) out_.flush_soon();
    }

    // While the session hands client messages to its backend: replies wait for the next
    // receive, which flushes them all in one write (coalescing_stream's cork).
    void begin_read() { in_read_ = true; }
    void end_read() { in_read_ = false; }
    // Without a receive to follow (a paused backend): flush at the end of this turn.
    void flush_soon() { out_.flush_soon(); }

    // A message the session cannot take (it is not open): dropped, counted, told.
    void refuse(core::message::written_fn on_written) {
        metrics_.messages_dropped.with({"connection_closing"}).inc();
        if (on_written) on_written(false);
    }

private:
    verdict send_frame(std::string_view payload, bool binary, core::message::written_fn done,
                       std::shared_ptr<const std::string>* shared = nullptr) {
        if (!fits(payload.size())) return over_limit(std::move(done));
        if (deflater_ && payload.size() >= threshold_ && compress(payload, binary, done)) return sent(payload.size());
        auto header = data_frame_header(binary, payload.size());
        if (shared && payload.size() >= shared_min) {
            out_.append(header.view());
            out_.append_shared(std::move(*shared), std::move(done));
        } else if (!shared && payload.size() >= through_min) {
            out_.append_through(header.view(), payload, std::move(done));  // written now, or copied
        } else {
            out_.append(header.view());
            out_.append(payload, std::move(done));
        }
        return sent(payload.size());
    }

    // Into this thread's scratch (sessions compress one message at a time, synchronously), then
    // copied in with its header. False (nothing appended) if zlib fails: sent uncompressed.
    bool compress(std::string_view payload, bool binary, core::message::written_fn& done) {
        thread_local std::string z;
        z.clear();
        if (!deflater_->compress(payload, z)) return false;
        out_.append(data_frame_header(binary, z.size(), true).view());
        out_.append(z, std::move(done));
        if (z.capacity() > keep_scratch) std::string().swap(z);
        return true;
    }

    verdict sent(std::size_t n) {
        sent_->inc();
        metrics_.bytes_sent.inc(n);
        // Outside a read (a reply, a publish) the write starts now: the first member of a room
        // hears first, and what follows while it is in flight joins the next write.
        if (!in_read_) out_.flush();
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
    std::size_t waiting() const { return out_.buffered() - out_.in_flight(); }
    bool fits(std::size_t n) {
        if (send_queue_ > target_ && out_.buffered() <= target_) send_queue_ = target_;  // drained: the reload's bound
        return out_.buffered() == 0 || waiting() + n <= send_queue_;
    }

    // Below this a shared payload is copied: a reference and its gathered piece cost ~40 bytes.
    static constexpr std::size_t shared_min = 128;
    // From this on a copied payload is written at once if it can be (coalescing_stream's
    // append_through): below it, the copy costs less than a write of its own, and joins the
    // batch.
    static constexpr std::size_t through_min = 16 * 1024;
    static constexpr std::size_t keep_scratch = 1 << 20;  // a worker keeps this much compression scratch

    Out& out_;
    metrics::gateway_metrics& metrics_;
    std::size_t send_queue_;
    std::size_t target_;  // a lowered send_queue, reached once the queue drains under it
    metrics::counter* sent_ = nullptr;
    deflater* deflater_ = nullptr;
    std::uint64_t threshold_ = 0;
    bool in_read_ = false;
};

}  // namespace wsgated::ws
