// coalescing_stream: the layer between Beast's websocket stream and the socket (plain TCP or
// TLS) that turns many small writes into one. Owned by the session's websocket stream; used only
// on the session's worker.
//
// Why: a write per message costs a syscall per message, and on this path the kernel's send
// (loopback delivery included) was 73% of the server's time (docs/performance.md). Here bytes
// are copied into `pending_` and leave together:
//   - when the websocket reader is about to wait for the peer (async_read_some): everything the
//     messages just read produced goes in one write, the "cork" of uWebSockets;
//   - on flush_soon(), a flush posted once per event-loop turn, for what is sent outside a read
//     (backend replies, room publishes, Beast's pings and close frames).
// One socket write is in flight at a time; bytes that arrive meanwhile collect in the second
// buffer (double buffering) and go in the next one.
//
// Writes complete at once (after the copy): the layer never blocks a writer, so the session
// bounds it, counting buffered() in server.limits.send_queue (slow consumer → 1008).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

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

    // Appends bytes as they are; `on_written`, if given, learns whether they reached the socket.
    void append(std::string_view bytes, written_fn on_written = {}) {
        if (failed_) {
            if (on_written) on_written(false);
            return;
        }
        pending_.insert(pending_.end(), bytes.begin(), bytes.end());
        appended_ += bytes.size();
        if (on_written) waiting_.emplace_back(appended_, std::move(on_written));
    }

    // Bytes accepted but not yet taken by the socket.
    std::size_t buffered() const { return pending_.size() + sending_.size(); }

    // Starts writing what is pending, unless a write is in flight (its completion goes on).
    void flush() {
        if (writing_ || pending_.empty() || failed_) return;
        auto anchor = owner_.lock();
        if (!anchor) return;  // the owner is going away: nothing can complete any more
        std::swap(sending_, pending_);
        writing_ = true;
        boost::asio::async_write(next_, boost::asio::buffer(sending_),
                                 [this, anchor = std::move(anchor)](error_code ec, std::size_t n) {
                                     on_flushed(ec, n);
                                 });
    }

    // Flushes at the end of this event-loop turn, so that what else this turn sends joins in.
    void flush_soon() {
        if (flush_posted_ || writing_ || pending_.empty() || failed_) return;
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
                              boost::beast::bind_front_handler(std::forward<Handler>(done), error_));
            return;
        }
        // Rare (teardown once per connection): the type-erased copy may allocate.
        auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(done));
        drained_.push_back([h](error_code ec) { (*h)(ec); });
    }

    // AsyncReadStream: the reader is about to wait for the peer, so send the answers first.
    template <class MutableBufferSequence, class ReadHandler>
    auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
        flush();
        return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
    }

    // AsyncWriteStream (Beast's own frames and the 101): copied whole, so a frame is never
    // split by bytes appended between two of its writes.
    template <class ConstBufferSequence, class WriteHandler>
    auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
        return boost::asio::async_initiate<WriteHandler, void(error_code, std::size_t)>(
            [this](auto h, const ConstBufferSequence& b) {
                std::size_t n = 0;
                for (auto piece : boost::beast::buffers_range_ref(b)) {
                    append({static_cast<const char*>(piece.data()), piece.size()});
                    n += piece.size();
                }
                error_code ec = failed_ ? error_ : error_code{};
                if (ec) n = 0;
                flush_soon();  // posted first: the bytes leave before the writer hears back
                boost::asio::post(next_.get_executor(),
                                  boost::beast::bind_front_handler(std::move(h), ec, n));
            },
            handler, buffers);
    }

private:
    void on_flushed(error_code ec, std::size_t n) {
        writing_ = false;
        written_ += n;
        sending_.clear();
        if (ec) {
            failed_ = true;
            error_ = ec;
            pending_.clear();
            notify_all(false);
        } else {
            notify_written();
            if (!pending_.empty()) return flush();
            // A burst (a 64 KiB message, a backlog) should not pin its buffers on an idle
            // connection: per-connection memory is a product figure.
            if (sending_.capacity() > keep_capacity) std::vector<char>().swap(sending_);
            if (pending_.capacity() > keep_capacity) std::vector<char>().swap(pending_);
        }
        auto drained = std::move(drained_);
        drained_.clear();
        for (auto& d : drained) d(error_);
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
        waiting_.clear();
        for (auto& w : waiting) w.second(written);
    }

    static constexpr std::size_t keep_capacity = 16 * 1024;

    Next next_;
    std::weak_ptr<void> owner_;
    std::vector<char> pending_;  // appended, not yet handed to the socket
    std::vector<char> sending_;  // the write in flight
    std::uint64_t appended_ = 0;  // bytes ever appended / written: match on_written callbacks
    std::uint64_t written_ = 0;
    std::deque<std::pair<std::uint64_t, written_fn>> waiting_;
    std::vector<std::function<void(error_code)>> drained_;
    error_code error_;
    bool writing_ = false;
    bool flush_posted_ = false;
    bool failed_ = false;
};

// Beast's close ends with a teardown (TCP shutdown, or TLS close_notify then shutdown): the
// frames still buffered here, the close frame among them, must reach the socket first.
template <class Next, class TeardownHandler>
void async_teardown(boost::beast::role_type role, coalescing_stream<Next>& stream,
                    TeardownHandler&& handler) {
    stream.async_drain([&stream, role, h = std::forward<TeardownHandler>(handler)](
                           boost::system::error_code) mutable {
        using boost::beast::websocket::async_teardown;
        async_teardown(role, stream.next_layer(), std::move(h));
    });
}

}  // namespace wsgated::ws
