// upgrade: decides what to answer to one HTTP request on a public listener, before any
// WebSocket byte is written: 404 / 426 / 403 / 400 or "accept, on this route".
//
// Pure function of the request and the router, so every rule is unit-tested without a socket.
// Runs on the connection's worker, once per handshake.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>

#include "core/upgrade_request.h"
#include "route/router.h"

namespace wsgated::ws {

namespace http = boost::beast::http;
using core::upgrade_request;

struct upgrade_decision {
    // switching_protocols = accept; anything else is the answer to send before closing.
    http::status status = http::status::switching_protocols;
    std::string body;  // short, plain text: why (never echoes request data)
    std::string_view reason;  // handshake_failures_total{reason} label when refused
    std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
    const route::compiled_route* route = nullptr;
    route::params params;
    std::string subprotocol;  // chosen one, empty if none
    int version = 13;         // 13, or 8 for HyBi-08..12 clients

    bool accepted() const { return status == http::status::switching_protocols; }
};

upgrade_decision decide_upgrade(const upgrade_request& req, const route::router& routes);

// GET, HTTP/1.1, `Connection: upgrade` and `Upgrade: websocket` (tokens, any case).
bool is_websocket_upgrade(const upgrade_request& req);

}  // namespace wsgated::ws
