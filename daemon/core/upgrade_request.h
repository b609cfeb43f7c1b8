// upgrade_request: the HTTP request that asks for a WebSocket upgrade, as the handshake reads it
// (headers only: an upgrade has no body). Read by ws/upgrade's decision, by auth hooks and by the
// session (its forwarded headers); owned by the handshake until the session takes it.
#pragma once

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

namespace wsgated::core {

using upgrade_request = boost::beast::http::request<boost::beast::http::empty_body>;

}  // namespace wsgated::core
