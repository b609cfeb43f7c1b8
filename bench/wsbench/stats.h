// stats: what a worker counts. Each worker thread owns one (no atomics on the per-message
// path); the run merges them after the threads are joined.
#pragma once

#include <cstdint>

#include "histogram.h"

namespace wsbench {

// Error kinds, in the order of the JSON `errors` object (README.md says what each means).
enum class err : unsigned { connect, handshake, timeout, tls, protocol, mismatch, closed, lost, http, none };
inline constexpr unsigned err_kinds = unsigned(err::none);
const char* err_name(err e);

struct stats {
    std::uint64_t ops = 0;          // the mode's unit, inside the measured window
    std::uint64_t sent = 0;         // messages (or requests, publishes) sent, whole run
    std::uint64_t received = 0;     // messages (or answers, deliveries) received, whole run
    std::uint64_t bytes_sent = 0;   // payload bytes
    std::uint64_t bytes_received = 0;
    std::uint64_t established = 0;  // connections that reached open
    std::uint64_t failed = 0;       // connects or upgrades that failed
    std::uint64_t handshakes = 0;   // storm: 101s inside the window
    std::uint64_t cycles = 0;       // storm: connect-to-close cycles completed, inside the window
    std::uint64_t negotiated = 0;   // deflate: connections that agreed permessage-deflate
    std::uint64_t compressed = 0;   // deflate: replies that came compressed
    std::uint64_t errors[err_kinds] = {};
    histogram latency;              // inside the window, nanoseconds

    void count(err e) { ++errors[unsigned(e)]; }
    std::uint64_t error_total() const;
    void merge(const stats& o);
};

}  // namespace wsbench
