// worker: one event-loop thread with its own single-threaded io_context (STYLE habit 4).
//
// A connection is handed to one worker at accept time and lives there for life; its state is
// touched only on this thread, so nothing on the per-message path takes a lock. The worker also
// keeps the list of its live sessions and handshakes, so that a drain can reach each of them.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace wsgated::core {

// A session or handshake that a drain must close (1001 for a session, a plain close for a
// handshake). Called on the owning worker's thread.
class drainable {
public:
    virtual ~drainable() = default;
    virtual void drain() = 0;
};

class worker {
public:
    explicit worker(unsigned index) : index_(index) {}
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    boost::asio::io_context& ioc() { return ioc_; }
    unsigned index() const { return index_; }

    void start();  // starts the thread
    void stop();   // any thread: makes run() return, even with work pending
    void join();

    // On this worker's thread only.
    void attach(const std::shared_ptr<drainable>& d);
    void detach(drainable* d);
    void drain_all();  // post() it here from other threads
    bool draining() const { return draining_; }

    // On this worker's thread: where its plain-TCP sessions receive (ws/coalescing_stream). One
    // buffer for all of them, since a receive is consumed or moved out within its handler.
    std::span<char> read_scratch() { return read_scratch_; }

    // Any thread: sessions and handshakes still open on this worker.
    std::size_t live() const { return live_.load(std::memory_order_relaxed); }

private:
    unsigned index_;
    // Declared before ioc_ so it outlives the handlers that ioc_'s destructor destroys (their
    // sessions detach themselves on the way out).
    std::unordered_map<drainable*, std::weak_ptr<drainable>> open_;
    std::atomic<std::size_t> live_{0};
    bool draining_ = false;
    std::vector<char> read_scratch_ = std::vector<char>(64 * 1024);
    boost::asio::io_context ioc_{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
    std::thread thread_;
};

}  // namespace wsgated::core
