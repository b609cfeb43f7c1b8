// worker: one event-loop thread with its own single-threaded io_context (STYLE habit 4).
//
// A connection is handed to one worker at accept time and lives there for life; its state is
// touched only on this thread, so nothing on the per-message path takes a lock. The worker also
// keeps the list of its live sessions and handshakes, so that a drain or a reload can reach each
// of them, and the configuration snapshot in force on this thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "core/snapshot.h"

namespace wsgated::core {

// A session or handshake held by a worker. Called on the owning worker's thread.
class attached {
public:
    virtual ~attached() = default;
    // The drain: 1001 for a session, a plain close for a handshake.
    virtual void drain() = 0;
    // A reload's snapshot (SPEC §1): an open session takes its limits, heartbeat and backend
    // definition, or closes 1012 when its route or backend is gone. A handshake does nothing:
    // it compares its snapshot with the worker's once it opens.
    virtual void reconfigure(const snapshot_ptr& /*next*/) {}
    // A strong reference to it, or null once it is being destroyed (its weak_from_this()).
    virtual std::shared_ptr<attached> keep() = 0;

private:
    friend class worker;
    // Its place in the worker's list: two pointers in the object, not a hash-map node and its
    // bucket (~56 bytes) per connection (idle memory, docs/performance.md).
    attached* prev_ = nullptr;
    attached* next_ = nullptr;
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
    void attach(const std::shared_ptr<attached>& d);
    void detach(attached* d);
    void drain_all();  // post() it here from other threads
    bool draining() const { return draining_; }

    // The snapshot in force on this worker: set before start(), then by reconfigure_all()
    // (posted here by a reload), which also hands it to every open session.
    const snapshot_ptr& snapshot() const { return snapshot_; }
    void set_snapshot(snapshot_ptr s) { snapshot_ = std::move(s); }
    void reconfigure_all(snapshot_ptr next);

    // On this worker's thread: where its plain-TCP sessions receive (ws/coalescing_stream). One
    // buffer for all of them, since a receive is consumed or moved out within its handler.
    std::span<char> read_scratch() { return read_scratch_; }

    // Any thread: sessions and handshakes still open on this worker.
    std::size_t live() const { return live_.load(std::memory_order_relaxed); }

private:
    template <class Fn>
    void for_each_attached(Fn&& fn);

    unsigned index_;
    // Declared before ioc_ so it outlives the handlers that ioc_'s destructor destroys (their
    // sessions detach themselves on the way out).
    attached* open_ = nullptr;  // the head of the list of what is attached (prev_/next_)
    snapshot_ptr snapshot_;
    std::atomic<std::size_t> live_{0};
    bool draining_ = false;
    // 256 KiB: a 64 KiB message (65,546 bytes framed) arrives whole and is read in place.
    std::vector<char> read_scratch_ = std::vector<char>(256 * 1024);
    boost::asio::io_context ioc_{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
    std::thread thread_;
};

}  // namespace wsgated::core
