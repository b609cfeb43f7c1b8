// coalescing_stream: the layer between a session and its socket (plain TCP or TLS) that turns
// many small writes into one, and many small receives into one. Owned by the session; used only
// on the session's worker.
//
// Why: a write per message costs a syscall per message, and on this path the kernel's send was
// 73% of the server's time (docs/performance.md). Here bytes are copied into `pending_` and
// leave together: when the session is about to wait for the peer (async_receive: the "cork" of
// uWebSockets, not while bytes kept by keep_unread wait to be read), on flush() for what it
// sends outside a read (replies, publishes), and on flush_soon(), once per event-loop turn. One
// write is in flight at a time; what comes meanwhile collects in the second buffer.
//
// Appends complete at once: the layer never blocks a writer, so the session bounds it, counting
// buffered() in server.limits.send_queue (slow consumer → 1008).
//
// Shared payloads (a publish) are not copied: append_shared() keeps a reference at its place and
// the write gathers (writev) copied bytes and shared buffers in order, so 10,000 members that do
// not read hold one copy of a payload. Over TLS (ws/tls_socket) the write's start encrypts the
// pieces in order into records (a batch of small frames is one record) and lets go of them.
//
// Receives: up to 256 KiB at once into the worker's scratch buffer (only this turn uses it),
// handed to the session as a view: one syscall per burst, no read buffer held by an idle
// connection. Over TLS the ciphertext is read into the scratch and decrypted into it too.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "ws/coalescing_extras.h"
#include "ws/lazy_fifo.h"
#include "ws/tls_socket.h"

namespace wsgated::ws {

template <class Next>
class coalescing_stream {
public:
    using next_layer_type = Next;
    using executor_type = typename Next::executor_type;
    using error_code = boost::system::error_code;
    using written_fn = std::function<void(bool written)>;

    explicit coalescing_stream(Next&& next) : next_(std::move(next)) {}
    coalescing_stream(coalescing_stream&&) = delete;  // in-flight writes point at this object
    ~coalescing_stream() { notify_all(false); }

    executor_type get_executor() noexcept { return next_.get_executor(); }
    Next& next_layer() noexcept { return next_; }
    const Next& next_layer() const noexcept { return next_; }

    // Who keeps this layer alive while a write or a posted flush is pending (the session).
    void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
    // What keeps the session alive while an operation on it is in flight (ws/outbound's writes).
    std::shared_ptr<void> owner() const { return owner_.lock(); }

    // Appends bytes as they are; `on_written`, if given, learns whether they reached the socket.
    void append(std::string_view bytes, written_fn on_written = {}) {
        if (failed_) {
            if (on_written) on_written(false);
            return;
        }
        pending_.insert(pending_.end(), bytes.begin(), bytes.end());
        appended_ += bytes.size();
        if (!on_written) return;
        if (appended_ == written_) return on_written(true);  // all of it reached the socket
        waiting_.push_back({appended_, std::move(on_written)});
    }

    // A buffer shared with other connections, referenced until written (see above). `bytes`
    // counts in buffered() like copied bytes: send_queue bounds what a member holds either way.
    void append_shared(std::shared_ptr<const std::string> bytes, written_fn on_written = {}) {
        if (failed_) {
            if (on_written) on_written(false);
            return;
        }
        appended_ += bytes->size();
        auto& x = extras();
        x.pending_shared_bytes += bytes->size();
        x.pending_shared.push_back({pending_.size(), std::move(bytes)});
        if (on_written) waiting_.push_back({appended_, std::move(on_written)});
    }

    // A frame whose payload is valid only during this call (a large reply that is a view of the
    // receive scratch). Plain TCP, no write in flight: what is pending and the frame are written
    // now without waiting, and only what the socket does not take is copied (docs/performance.md).
    // Otherwise (TLS, a write in flight, shared buffers pending) it is appended.
    void append_through(std::string_view header, std::string_view payload, written_fn on_written = {}) {
        std::size_t n = 0;
        if constexpr (bare) {  // scratch_ set: the socket does not block
            if (!writing_ && !failed_ && !shared_pending() && !scratch_.empty()) {
                error_code ec;  // would_block, or an error the next write reports
                std::array<boost::asio::const_buffer, 3> pieces{boost::asio::buffer(pending_), boost::asio::buffer(header.data(), header.size()),
                                  boost::asio::buffer(payload.data(), payload.size())};
                n = socket().write_some(pieces, ec);
                if (ec) n = 0;
            }
        }
        if (n == 0) {
            append(header);
            return append(payload, std::move(on_written));
        }
        written_ += n;
        std::size_t before = std::min(n, pending_.size());  // what of the earlier bytes went
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(before));
        n -= before;
        std::size_t h = std::min(n, header.size());
        appended_ += h + std::min(n - h, payload.size());
        append(header.substr(h));
        append(payload.substr(n - h), std::move(on_written));
        if (!waiting_.empty()) notify_soon();  // earlier callbacks whose bytes just went
    }

    // Receive through this worker's scratch buffer (see above). TLS needs it.
    void set_read_scratch(std::span<char> scratch) {
        error_code ec;
        socket().non_blocking(true, ec);  // read_some must say would_block, not wait
        if (!ec) scratch_ = scratch;
    }

    // Bytes received and not read yet (behind the upgrade request; the rest of a receive when a
    // backend paused reading): the next async_receive hands them out first, without a syscall.
    void keep_unread(std::span<const char> bytes) {
        if (bytes.empty()) return;
        auto& inbox = extras().inbox;
        inbox.insert(inbox.end(), bytes.begin(), bytes.end());
    }

    // A quiet connection (no write in flight, nothing pending) gives its buffers back: the
    // session calls it on its heartbeat tick, so that a connection idle after a burst holds none.
    void release_buffers() {
        if (writing_ || flush_posted_ || has_pending()) return;
        std::vector<char>().swap(pending_);
        std::vector<char>().swap(sending_);
        if (x_ && x_->unused()) x_.reset();
        if constexpr (tls) next_.engine().release();
    }

    // Bytes accepted but not yet taken by the socket.
    std::size_t buffered() const { return pending_.size() + (x_ ? x_->pending_shared_bytes : 0) + in_flight(); }

    // Heap bytes this layer holds for its connection (what idle memory is made of).
    std::size_t held() const {
        return pending_.capacity() + sending_.capacity() + (x_ ? x_->held() : 0);
    }

    // Bytes of the write in flight: what send_queue does not count (see ws/outbound's fits()).
    std::size_t in_flight() const { return sending_.size() + (x_ ? x_->sending_shared_bytes : 0); }

    // Starts writing what is pending, unless a write is in flight (its completion goes on).
    void flush() {
        if (writing_ || !has_pending() || failed_) return;
        auto anchor = owner_.lock();
        if (!anchor) return;  // the owner is going away: nothing can complete any more
        if constexpr (tls) {
            flush_records(std::move(anchor));
        } else {
            std::swap(sending_, pending_);
            writing_ = true;
            auto done = [this, anchor = std::move(anchor)](error_code ec, std::size_t n) { on_flushed(ec, n); };
            if (!shared_pending()) return boost::asio::async_write(next_, boost::asio::buffer(sending_), std::move(done));
            std::swap(x_->sending_shared, x_->pending_shared);
            x_->sending_shared_bytes = std::exchange(x_->pending_shared_bytes, 0);
            x_->gather_with(sending_);
            boost::asio::async_write(next_, std::span<const boost::asio::const_buffer>(x_->gather), std::move(done));
        }
    }

    // TLS: our close_notify behind everything appended (then async_drain writes it).
    void close_notify() { notify_ = tls; }

    // Flushes at the end of this event-loop turn, so that what else this turn sends joins in.
    void flush_soon() {
        if (flush_posted_ || writing_ || !has_pending() || failed_) return;
        auto anchor = owner_.lock();
        if (!anchor) return;
        flush_posted_ = true;
        boost::asio::post(next_.get_executor(), [this, anchor = std::move(anchor)] {
            flush_posted_ = false;
            flush();
        });
    }

    // Calls `done` once everything appended so far is written (or the socket failed).
    template <class Handler>
    void async_drain(Handler&& done) {
        flush();
        if (!writing_) {
            boost::asio::post(next_.get_executor(),
                              boost::beast::bind_front_handler(std::forward<Handler>(done), error()));
            return;
        }
        // Rare (teardown once per connection): the type-erased copy may allocate.
        auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(done));
        extras().drained.push_back([h](error_code ec) { (*h)(ec); });
    }

    // Calls `h(ec, bytes)` with what the peer sent next. `bytes` is valid during the call only
    // (the worker's scratch, the TLS buffer, or what keep_unread kept); what the caller does not
    // read then, it keeps with keep_unread. Before waiting for the peer, sends the answers.
    template <class Handler>
    void async_receive(Handler&& h) {
        if (x_ && !x_->inbox.empty()) {
            boost::asio::post(next_.get_executor(), [this, h = std::forward<Handler>(h)]() mutable {
                auto kept = std::move(x_->inbox);
                x_->inbox = {};
                h(error_code{}, std::span<char>(kept));
            });
            return;
        }
        if constexpr (tls) {
            if (next_.ready()) return boost::asio::post(next_.get_executor(), [this, h = std::forward<Handler>(h)]() mutable {
                receive_now(std::move(h));
            });
        }
        flush();
        if (tls || !scratch_.empty()) return wait_and_receive(std::forward<Handler>(h));  // TLS: set_read_scratch first
        if constexpr (!tls) receive_into_own_buffer(std::forward<Handler>(h));
    }

private:
    template <class Handler>
    void receive_into_own_buffer(Handler&& h) {
        auto& own = extras().own_buffer;
        if (!own) own = std::make_unique<char[]>(coalescing_extras::own_buffer_size);
        next_.async_read_some(boost::asio::buffer(own.get(), coalescing_extras::own_buffer_size),
                              [this, h = std::forward<Handler>(h)](error_code ec, std::size_t n) mutable {
                                  h(ec, std::span<char>(x_->own_buffer.get(), n));
                              });
    }

    coalescing_extras& extras() {
        if (!x_) x_ = std::make_unique<coalescing_extras>();
        return *x_;
    }
    bool shared_pending() const { return x_ && !x_->pending_shared.empty(); }
    error_code error() const { return x_ ? x_->error : error_code{}; }

    bool has_pending() {
        if constexpr (tls) {
            if (notify_ || !next_.engine().output().empty()) return true;  // TLS's own records
        }
        return !pending_.empty() || shared_pending();
    }

    void notify_soon() {
        auto anchor = owner_.lock();
        if (!anchor) return;
        boost::asio::post(next_.get_executor(), [this, anchor = std::move(anchor)] { notify_written(); });
    }

    // TLS: the copied bytes and shared buffers encrypted in order into the engine's output,
    // which becomes the write in flight.
    void flush_records(std::shared_ptr<void> anchor) {
        std::size_t from = 0;
        bool ok = true;
        for (const auto& piece : x_ ? x_->pending_shared : no_pieces) {
            ok = ok && next_.encrypt({pending_.data() + from, piece.at - from}) && next_.encrypt(*piece.bytes);
            from = piece.at;
        }
        ok = ok && next_.encrypt({pending_.data() + from, pending_.size() - from});
        if (std::exchange(notify_, false)) next_.close_notify();
        sending_plain_ = pending_.size() + (x_ ? std::exchange(x_->pending_shared_bytes, 0) : 0);
        pending_.clear();
        if (x_) x_->pending_shared.clear();
        writing_ = true;
        auto done = [this, anchor = std::move(anchor)](error_code ec, std::size_t n) { on_flushed(ec, n); };
        if (!ok) {  // as a failed write: the writers and a drain learn it from on_flushed
            return boost::asio::post(next_.get_executor(),
                                     boost::beast::bind_front_handler(std::move(done), net::tls_engine::failure(), 0));
        }
        std::swap(sending_, next_.engine().output());
        boost::asio::async_write(next_.socket(), boost::asio::buffer(sending_), std::move(done));
    }

    // Under TLS, what wait_and_receive does once the socket is readable (or the engine has
    // something already).
    template <class Handler>
    void receive_now(Handler&& h) {
        error_code ec;
        auto plain = next_.receive(scratch_, writing_, ec);
        if (ec == boost::asio::error::would_block) {
            flush();  // what reading produced (TLS's own answers) goes out before the wait
            return wait_and_receive(std::forward<Handler>(h));
        }
        h(ec, plain);
    }

    // The socket itself, Beast's tcp_stream around one, or ws/tls_socket.
    static constexpr bool bare = requires(Next& n) { n.non_blocking(true); };
    static constexpr bool tls = std::is_same_v<Next, tls_socket>;

    auto& socket() {
        if constexpr (bare) return next_;
        else return next_.socket();
    }

    // The handler keeps the session (and so this layer) alive while the wait is pending.
    template <class Handler>
    void wait_and_receive(Handler&& h) {
        socket().async_wait(boost::asio::socket_base::wait_read, [this, h = std::forward<Handler>(h)](error_code ec) mutable {
            if constexpr (tls) {
                if (!ec) return receive_now(std::move(h));
            }
            std::size_t n = ec ? 0 : socket().read_some(boost::asio::buffer(scratch_.data(), scratch_.size()), ec);
            if (ec == boost::asio::error::would_block) return wait_and_receive(std::move(h));
            h(ec, std::span<char>(scratch_.data(), n));
        });
    }

    void on_flushed(error_code ec, std::size_t n) {
        writing_ = false;
        written_ += tls ? std::exchange(sending_plain_, 0) : n;  // on_written counts what was appended
        sending_.clear();
        if (x_) x_->written();
        if (ec) {
            fail(ec);
        } else if (has_pending()) {
            flush();
        } else {
            // A burst (a 64 KiB message, a backlog) should not pin its buffers on an idle
            // connection: per-connection memory is a product figure.
            if (sending_.capacity() > keep_capacity) std::vector<char>().swap(sending_);
            if (pending_.capacity() > keep_capacity) std::vector<char>().swap(pending_);
            if (x_ && x_->unused() && x_->grown()) x_.reset();
            if constexpr (tls) {
                if (next_.engine().output().capacity() > keep_tls_output) std::vector<char>().swap(next_.engine().output());
            }
        }
        // Callbacks last, once the buffers are settled: one may append and start a write.
        if (ec) notify_all(false);
        else notify_written();
        if (writing_) return;  // more is on its way: a drain waits for that too
        if (!x_ || x_->drained.empty()) return;
        auto drained = std::move(x_->drained);
        x_->drained.clear();
        for (auto& d : drained) d(error());
    }

    // Nothing more can be written: what is pending is dropped, and the writers learn it.
    void fail(error_code ec) {
        failed_ = true;
        extras().error = ec;
        pending_.clear();
        if (x_) {
            x_->pending_shared.clear();
            x_->pending_shared_bytes = 0;
        }
    }

    void notify_written() {
        while (!waiting_.empty() && waiting_.front().first <= written_) {
            auto fn = std::move(waiting_.front().second);
            waiting_.pop_front();
            fn(true);
        }
    }

    void notify_all(bool written) {
        auto waiting = std::move(waiting_);
        waiting_ = {};
        for (auto& w : waiting) w.second(written);
    }

    static constexpr std::size_t keep_capacity = 16 * 1024;    // kept by an idle connection
    static constexpr std::size_t keep_tls_output = 512;        // the records buffer not in flight
    static inline const std::vector<coalescing_extras::shared_piece> no_pieces;

    Next next_;
    std::weak_ptr<void> owner_;
    std::vector<char> pending_;  // appended, not yet handed to the socket
    std::vector<char> sending_;  // the write in flight
    std::unique_ptr<coalescing_extras> x_;  // shared payloads, unread bytes, drains: now and then
    std::span<char> scratch_;    // the worker's receive buffer; empty: x_->own_buffer
    std::size_t sending_plain_ = 0;  // TLS: the plaintext bytes the write in flight carries
    std::uint64_t appended_ = 0;  // bytes ever appended / written: match on_written callbacks
    std::uint64_t written_ = 0;
    lazy_fifo<std::pair<std::uint64_t, written_fn>> waiting_;
    bool writing_ = false;
    bool flush_posted_ = false;
    bool failed_ = false;
    bool notify_ = false;  // TLS: a close_notify goes behind what is pending
};

}  // namespace wsgated::ws
