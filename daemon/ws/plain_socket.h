// plain_socket: the bare socket a plain (ws://) session runs on, bound to its worker's
// io_context. The handshake reads through Beast's tcp_stream for its timeouts; the session
// does not need them, and the tcp_stream (a second heap object with two timers, ~0.5 KiB) and
// its type-erased executor (a copy per operation) cost every connection for life
// (docs/performance.md). adopt_socket moves the descriptor over.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace wsgated::ws {

using plain_stream = boost::beast::tcp_stream;  // what the handshake hands over
using plain_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

// On the worker that owns `stream`. On failure (the client is already gone) `ec` is set and the
// descriptor is closed: it is never left owned by nobody.
plain_socket adopt_socket(plain_stream&& stream, boost::asio::io_context& ioc, boost::system::error_code& ec);

}  // namespace wsgated::ws
