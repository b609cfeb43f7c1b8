// stream_shared: what every worker's stream and every channel of one `stream` backend share:
// its settings, where actions go, and its metric cells (looked up once, when the backend is
// built). Immutable after that, apart from the log limiter (lock-free).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/log_limiter.h"
#include "core/process_state.h"
#include "metrics/gateway_metrics.h"
#include "net/reconnecting_link.h"

namespace wsgated::hub {
class delivery;
}

namespace wsgated::backend {

struct stream_shared {
    std::string name;
    net::link_target target;
    std::size_t max_buffer = 0;
    std::chrono::milliseconds timeout{};
    std::uint64_t max_message_size = 0;
    hub::delivery* delivery = nullptr;
    core::process_state* state = nullptr;

    metrics::gauge* streams = nullptr;  // backend_streams{backend}
    metrics::counter* connects_ok = nullptr;
    metrics::counter* connects_failed = nullptr;
    metrics::counter* connects_lost = nullptr;
    metrics::counter* events_ok = nullptr;     // backend_requests{outcome="ok"}: an event written
    metrics::counter* unreachable = nullptr;  // backend_requests{outcome="unreachable"}: a 1013
    metrics::counter* pauses = nullptr;       // backend_backlog_pauses
    metrics::counter* dropped_lost = nullptr;         // messages_dropped{reason="backend_lost"}
    metrics::counter* dropped_unavailable = nullptr;  // messages_dropped{reason="backend_unavailable"}

    // backend_protocol_errors{backend,reason}: on errors only (the lookup takes a lock).
    void protocol_error(std::string_view reason) const {
        state->metrics.backend_protocol_errors.with({name, reason}).inc();
    }
    // Connection failures and bad frames: at most 5 lines a second per backend.
    mutable core::log_limiter log{5};
};

}  // namespace wsgated::backend
