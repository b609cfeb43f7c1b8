// hub: the one place for state shared between connections and workers (STYLE habit 6): limits,
// metrics, the connection table, the room index, and each worker's local_hub.
//
// Owned by server::server for the process's life and handed by reference to listeners,
// handshakes, sessions and the control API. Deliveries to many connections are posted once per
// worker that has recipients, with one shared message buffer; each worker then walks its own
// local_hub without a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "backend/backend.h"
#include "hub/connection_table.h"
#include "hub/local_hub.h"
#include "hub/room_index.h"
#include "metrics/gateway_metrics.h"
#include "net/conn_limits.h"
#include "server/log_limiter.h"

namespace wsgated::hub {

class hub {
public:
    explicit hub(unsigned workers);

    // Called once at startup, before any connection: where to post each worker's deliveries.
    void set_worker_context(unsigned worker, boost::asio::io_context& ioc);
    unsigned workers() const { return static_cast<unsigned>(locals_.size()); }
    boost::asio::io_context& context(unsigned worker) { return *contexts_[worker]; }
    local_hub& local(unsigned worker) { return *locals_[worker]; }

    // Any thread. publish returns the room's member count when the call was made (an excluded
    // member included); broadcast and send_to_user the number of connections addressed.
    std::uint64_t publish(const std::string& room, backend::message m, const std::string& exclude);
    std::uint64_t broadcast(backend::message m);
    std::uint64_t send_to_user(const std::string& user, backend::message m);

    metrics::gateway_metrics metrics;
    net::conn_limits limits;
    room_index rooms;
    connection_table connections;
    // Backend requests not yet answered, process-wide: a drain waits for them too (the
    // disconnect events of the connections it closed).
    std::atomic<std::size_t> backend_in_flight{0};
    // Refused handshakes (auth) are logged with their reason, at most 10 lines a second.
    server::log_limiter auth_refusal_log{10};

private:
    std::vector<std::unique_ptr<local_hub>> locals_;
    std::vector<boost::asio::io_context*> contexts_;
};

}  // namespace wsgated::hub
