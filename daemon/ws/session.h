// session: one upgraded WebSocket connection, from the 101 to the close, joining the client to
// its route's backend. Lives on one worker for life (see server/worker.h).
//
// The session class template is private to session.cpp, the only translation unit that
// instantiates Beast's websocket templates (compile time); callers only see these functions.
#pragma once

#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "auth/identity.h"
#include "hub/hub.h"
#include "net/conn_limits.h"
#include "server/snapshot.h"
#include "server/worker.h"
#include "ws/upgrade.h"

namespace wsgated::ws {

using plain_stream = boost::beast::tcp_stream;  // what the handshake hands over
using plain_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                      boost::asio::io_context::executor_type>;
using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

struct session_start {
    server::worker* worker = nullptr;
    hub::hub* hub = nullptr;
    server::snapshot_ptr snapshot;
    upgrade_decision decision;
    upgrade_request request;
    std::string remote;  // the client's address (after trusted proxies)
    auth::identity identity;  // from the route's auth check; empty user = anonymous
    net::conn_slot slot;  // its share of the connection limits, released when it ends
    std::string early_bytes;  // what the client sent after its upgrade request (frames already)
};

// Both run on the worker that owns the stream; they write the 101 and start reading.
void start_session(plain_stream&& stream, session_start&& start);
void start_session(tls_stream&& stream, session_start&& start);

}  // namespace wsgated::ws
