// accept_response: the 101 Switching Protocols that completes a WebSocket upgrade (RFC 6455
// §4.2.2), written by the session as its first bytes. ws/upgrade has already checked the request
// (key, version, origin, subprotocol); this only says yes. HyBi-08 clients get the same answer.
#pragma once

#include <string>
#include <string_view>

namespace wsgated::ws {

// Sec-WebSocket-Accept: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);

// `subprotocol` and `extensions` are left out when empty.
std::string accept_response(std::string_view key, std::string_view subprotocol, std::string_view extensions);

}  // namespace wsgated::ws
