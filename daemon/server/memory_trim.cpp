// memory_trim: see memory_trim.h.
#include "server/memory_trim.h"

#include <malloc.h>

#include <algorithm>

#include <spdlog/spdlog.h>

namespace wsgated::server {
namespace {

constexpr auto every = std::chrono::seconds(2);
constexpr auto idle_check_every = std::chrono::seconds(30);
constexpr std::size_t min_drop = 256;               // connections
constexpr std::size_t idle_free_limit = 64u << 20;  // bytes glibc may keep free

}  // namespace

bool crowd_left(std::size_t peak, std::size_t live) {
    std::size_t drop = peak > live ? peak - live : 0;
    return drop >= min_drop && drop * 4 >= peak;
}

memory_trim::memory_trim(boost::asio::io_context& control, std::function<std::size_t()> live)
    : timer_(control), live_(std::move(live)) {}

void memory_trim::start() {
    timer_.expires_after(every);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        tick();
        start();
    });
}

void memory_trim::stop() { timer_.cancel(); }

void memory_trim::tick() {
    std::size_t live = live_();
    if (!drained_enough(live) && !idle_memory_large()) return;
    auto before = std::chrono::steady_clock::now();
    bool returned = malloc_trim(0) != 0;
    peak_ = live;
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - before);
    spdlog::debug("memory trim: {} ({} ms, {} connections open)", returned ? "memory returned" : "nothing to return",
                  took.count(), live);
}

// A crowd left (a drain, a network blip, a fan-out's slow members closed): their sessions' and
// buffers' memory is free now.
bool memory_trim::drained_enough(std::size_t live) {
    peak_ = std::max(peak_, live);
    return crowd_left(peak_, live);
}

// Memory freed without connections leaving (buffers of slow members, backlogs): mallinfo2 walks
// the arenas' free lists, so it is asked rarely.
bool memory_trim::idle_memory_large() {
    auto now = std::chrono::steady_clock::now();
    if (now - last_check_ < idle_check_every) return false;
    last_check_ = now;
    return mallinfo2().fordblks > idle_free_limit;
}

}  // namespace wsgated::server
