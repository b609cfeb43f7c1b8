// process_state: the process-wide counters and limits that every layer touches (STYLE habit 6:
// shared state in one clearly named place), and where each worker's event loop is.
//
// Owned by server::server for the process's life, built before any worker starts and handed by
// reference to listeners, handshakes, sessions, backends, auth hooks and the admin listener.
// Everything here is safe from any thread: counters are atomics (per-cell in metrics), the
// connection limits take their own lock (never per message), and the worker table is written
// once at startup, before any connection exists.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/conn_limits.h"
#include "core/log_limiter.h"
#include "metrics/gateway_metrics.h"

namespace wsgated::core {

class process_state {
public:
    // Every worker counts metrics into its own slot (1 + its index), other threads into 0.
    explicit process_state(unsigned workers)
        : metrics((workers < 1 ? 1 : workers) + 1), contexts_(workers < 1 ? 1 : workers, nullptr) {}
    process_state(const process_state&) = delete;
    process_state& operator=(const process_state&) = delete;

    // Called once per worker at startup, before any connection.
    void set_worker_context(unsigned worker, boost::asio::io_context& ioc) { contexts_[worker] = &ioc; }
    unsigned workers() const { return static_cast<unsigned>(contexts_.size()); }
    boost::asio::io_context& context(unsigned worker) const { return *contexts_[worker]; }

    metrics::gateway_metrics metrics;
    conn_limits limits;
    // Backend requests not yet answered, process-wide: a drain waits for them too (the
    // disconnect events of the connections it closed).
    std::atomic<std::size_t> backend_in_flight{0};
    // Refused handshakes (auth) are logged with their reason, at most 10 lines a second.
    log_limiter auth_refusal_log{10};

private:
    std::vector<boost::asio::io_context*> contexts_;
};

}  // namespace wsgated::core
