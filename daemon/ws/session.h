// session: one upgraded WebSocket connection, from the 101 to the close, joining the client to
// its route's backend. Lives on one worker for life (see server/worker.h).
//
// The session class template is private to ws/ (ws/session_type.h); callers only see these
// functions.
#pragma once

#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "auth/identity.h"
#include "core/conn_limits.h"
#include "core/snapshot.h"
#include "core/worker.h"
#include "ws/handshake.h"
#include "ws/plain_socket.h"
#include "ws/tls_stream.h"
#include "ws/upgrade.h"

namespace wsgated::ws {

struct session_start {
    core::worker* worker = nullptr;
    services sv;
    core::snapshot_ptr snapshot;
    upgrade_decision decision;
    upgrade_request request;
    std::string remote;  // the client's address (after trusted proxies)
    auth::identity identity;  // from the route's auth check; empty user = anonymous
    core::conn_slot slot;  // its share of the connection limits, released when it ends
    std::string early_bytes;  // what the client sent after its upgrade request (frames already)
};

// Both run on the worker that owns the stream; they write the 101 and start reading.
void start_session(plain_stream&& stream, session_start&& start);
void start_session(tls_stream&& stream, session_start&& start);

}  // namespace wsgated::ws
