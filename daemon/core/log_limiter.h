// log_limiter: at most `per_second` log lines a second for one kind of event that traffic can
// cause (refused handshakes): a flood of bad tokens must not become a flood of log lines.
// Lines over the limit are counted and the count is reported with the next line let through.
// Any thread; lock-free.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace wsgated::core {

class log_limiter {
public:
    explicit log_limiter(std::uint32_t per_second) : per_second_(per_second) {}

    // True when this line may be logged; `suppressed` is then set to the lines dropped since
    // the last one let through.
    bool allow(std::uint64_t& suppressed) {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now().time_since_epoch()).count();
        auto second = second_.load(std::memory_order_relaxed);
        if (now != second && second_.compare_exchange_strong(second, now)) count_.store(0);
        if (count_.fetch_add(1, std::memory_order_relaxed) < per_second_) {
            suppressed = dropped_.exchange(0, std::memory_order_relaxed);
            return true;
        }
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }

private:
    const std::uint32_t per_second_;
    std::atomic<std::int64_t> second_{0};
    std::atomic<std::uint32_t> count_{0};
    std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace wsgated::core
