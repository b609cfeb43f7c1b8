// stream_options: how a session's websocket stream is set up for its route before the 101:
// timeouts (ours, not Beast's idle pings), permessage-deflate's knobs, the message size limit,
// no automatic fragmentation, and the 101's Server, Sec-WebSocket-Protocol and (see
// ws/deflate_offer) Sec-WebSocket-Extensions fields.
//
// A template over the websocket stream, included only by ws/session.cpp (Beast's websocket
// templates stay in one translation unit). Runs on the session's worker.
#pragma once

#include <string>

#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "config/gateway_config.h"
#include "ws/deflate_offer.h"

namespace wsgated::ws {

template <class WsStream>
void apply_stream_options(WsStream& ws, const config::limits_config& lim, const config::compression_config& deflate,
                          std::string subprotocol, bool name_server_window) {
    namespace beast = boost::beast;
    namespace websocket = beast::websocket;
    if constexpr (requires { beast::get_lowest_layer(ws).expires_never(); })
        beast::get_lowest_layer(ws).expires_never();  // the websocket timeouts below take over
    websocket::stream_base::timeout t{};
    t.handshake_timeout = lim.handshake_timeout;      // the 101 write and the closing handshake
    t.idle_timeout = websocket::stream_base::none();  // our heartbeat does it, with RTTs
    t.keep_alive_pings = false;
    ws.set_option(t);
    ws.set_option(deflate_options(deflate));
    ws.read_message_max(lim.max_message_size);
    ws.auto_fragment(false);
    ws.set_option(websocket::stream_base::decorator([proto = std::move(subprotocol),
                                                     name_server_window](websocket::response_type& res) {
        res.set(beast::http::field::server, "wsgated/" WSGATED_VERSION);
        if (name_server_window) complete_deflate_answer(res);
        if (!proto.empty()) res.set(beast::http::field::sec_websocket_protocol, proto);
    }));
}

}  // namespace wsgated::ws
