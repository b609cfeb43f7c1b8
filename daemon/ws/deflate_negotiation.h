// deflate_negotiation: which permessage-deflate (RFC 7692) a handshake agrees on, from the
// client's offers (Sec-WebSocket-Extensions) and the route's `compression` settings, and the
// answer for the 101. Pure: ws/session calls it once per handshake, on the worker that accepted
// the connection, and sizes its ws/inflater and ws/deflater from the result.
//
// What it keeps of Beast's negotiation (and of ws/deflate_offer, which adapted Beast): an offer
// asking server_max_window_bits=8 is not answered with 9 (a parameter the client did not allow,
// RFC 7692 §7.1.2.1) but skipped, because zlib cannot compress raw deflate with an 8-bit
// window; an offer that names server_max_window_bits gets it named in the answer even at 15.
// What differs: the first offer we can accept wins (RFC 7692 §5.1: clients list fallbacks),
// where Beast read the first offer only; and an offer without client_max_window_bits is
// accepted (inflated with a 15-bit window, the parameter not named) where Beast declined it if
// the route asked a smaller client window.
#pragma once

#include <string>
#include <string_view>

#include "config/gateway_config.h"

namespace wsgated::ws {

// What one handshake agreed. enabled = false: no compression on this connection.
struct deflate_params {
    bool enabled = false;
    int server_max_window_bits = 15;  // our compressor's window (9..15)
    // The client's compressor's window as our inflater uses it: at least 9 for zlib (a client
    // told 8 compresses with 8; inflating with a larger window is always safe).
    int client_max_window_bits = 15;
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
};

struct deflate_answer {
    deflate_params params;
    std::string extension;  // the Sec-WebSocket-Extensions value for the 101; empty when declined
};

// `offers`: the request's Sec-WebSocket-Extensions, several header lines joined by ", ". Route
// windows outside 9..15 (a struct that did not come from the loader) are taken as the nearest
// bound.
deflate_answer negotiate_deflate(std::string_view offers, const config::compression_config& route);

}  // namespace wsgated::ws
