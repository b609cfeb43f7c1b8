// handshake: everything between accept() and the WebSocket upgrade on a public listener: the
// TLS handshake, reading the HTTP request under size limits, and either an HTTP answer
// (400/404/426/403/431/503…) or handing the stream to a session.
//
// The whole of it is bounded by server.limits.handshake_timeout (slowloris). Runs on the
// worker that owns the socket.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "core/process_state.h"
#include "core/snapshot.h"
#include "core/worker.h"
#include "hub/delivery.h"

namespace boost::asio::ssl {
class context;
}

namespace wsgated::ws {

// The request line may be at most 8 KiB, the header fields at most 16 KiB together.
inline constexpr std::size_t max_request_line = 8 * 1024;
inline constexpr std::size_t max_header_fields = 16 * 1024;

// What every handshake and session of the process uses: the process-wide counters and limits,
// and the delivery that makes a connection reachable. Both outlive every connection.
struct services {
    core::process_state& state;
    hub::delivery& delivery;
};

// What the listener a socket came from asks of its handshake.
struct listener_options {
    std::shared_ptr<boost::asio::ssl::context> tls;  // null for a plain listener
    bool proxy_protocol = false;  // a PROXY v1/v2 header comes first, and must
};

// Call on the socket's worker.
void start_handshake(boost::asio::ip::tcp::socket socket, core::worker& worker,
                     core::snapshot_ptr snapshot, const listener_options& options, services sv);

}  // namespace wsgated::ws
