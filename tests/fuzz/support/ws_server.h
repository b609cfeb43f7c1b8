// ws_server: the server side of one WebSocket connection as wsgated runs it — Beast's
// websocket::stream set up by ws/stream_options.h (limits, permessage-deflate, no automatic
// fragmentation) and read with async_read into a flat_buffer, as ws/session does — over an
// in-memory beast::test::stream instead of a socket. The handshake is completed first (a fixed
// upgrade request, with the given extension offer); then the client's bytes are fed and messages
// are read until the stream fails, closes, or the bytes run out (then the transport reads EOF).
//
// For the fuzz targets ws_frame and ws_deflate. Beast's websocket templates are instantiated
// here once, so the two targets' own files stay light to build. Single-threaded; each call
// builds its own io_context and streams, so no state is carried from one input to the next.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "config/gateway_config.h"

namespace wsgated::fuzz {

struct ws_setup {
    config::limits_config limits;           // max_message_size is Beast's read_message_max
    config::compression_config compression; // as a route's `compression`
    std::string extensions;  // the client's Sec-WebSocket-Extensions; empty: none offered
    std::size_t read_size = 0;  // at most this many bytes per transport read; 0: no limit
};

struct ws_message {
    bool binary = false;
    std::string payload;
};

struct ws_outcome {
    std::string response;            // the 101, as written
    std::vector<ws_message> messages;  // every message async_read completed with
    boost::system::error_code ec;    // how the last read ended (never success)
    std::size_t held = 0;            // bytes in the read buffer when that read ended
    std::string written;             // what the server wrote after the 101: pongs, a close
};

// Schema defaults (a gateway_config from a minimal YAML through config::load_string): what a
// route gets when its config says nothing.
const config::gateway_config& default_config();

ws_outcome serve(const ws_setup& setup, std::string_view client_bytes);

// A client frame as RFC 6455 §5.2 writes it, masked with `key`. `first` is byte 0 (FIN, RSV,
// opcode); the length gets its shortest encoding.
std::string client_frame(unsigned char first, std::string_view payload, std::uint32_t key = 0x5a3c96e1);

// A server frame read back from `written`: FIN+opcode byte and payload. Returns false when
// `in` does not start with a complete unmasked frame.
bool next_server_frame(std::string_view& in, unsigned char& first, std::string& payload);

}  // namespace wsgated::fuzz
