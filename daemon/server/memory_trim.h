// memory_trim: gives memory that glibc keeps after a crowd of connections left back to the
// system.
//
// Why: freed memory stays in glibc's arenas (per thread, fragmented) and RSS stays where the
// peak left it: after 10,000 connections closed, 1.3 GB instead of 80 MB (issue 16's fan-out
// measurement, docs/performance.md). malloc_trim(0) returns the free pages of every arena. It
// locks each arena while it walks it, so it runs here, on the control thread, only at drain
// points: when the number of open connections fell by a quarter (at least 256) since its peak,
// and otherwise at most every 30 s when glibc holds more than 64 MiB free.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace wsgated::server {

// Whether a fall from `peak` open connections to `live` is a drain point: a quarter of them
// and at least 256 left.
bool crowd_left(std::size_t peak, std::size_t live);

class memory_trim {
public:
    // live(): connections open now (any thread's count, read on the control thread).
    memory_trim(boost::asio::io_context& control, std::function<std::size_t()> live);
    void start();
    void stop();

private:
    void tick();
    bool drained_enough(std::size_t live);
    bool idle_memory_large();

    boost::asio::steady_timer timer_;
    std::function<std::size_t()> live_;
    std::size_t peak_ = 0;
    std::chrono::steady_clock::time_point last_check_{};
};

}  // namespace wsgated::server
