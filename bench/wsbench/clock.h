// clock: the one time source of wsbench (CLOCK_MONOTONIC, nanoseconds). Send stamps, receive
// times, deadlines and the measured window all use it, so every difference is meaningful
// across the threads of one process.
#pragma once

#include <cstdint>
#include <ctime>

namespace wsbench {

inline std::int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline std::int64_t seconds_ns(double s) { return std::int64_t(s * 1e9); }

}  // namespace wsbench
