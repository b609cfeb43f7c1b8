// ws_server: the server side of one WebSocket connection as ws/session runs it, without the
// socket: the 101 with the permessage-deflate answer (ws/deflate_negotiation), then the client's
// bytes fed to ws/frame_reader in receives of at most `read_size` bytes, each in fresh memory
// (a reader that kept a view into an earlier receive reads freed memory: ASan says so), and the
// session's answers written as it writes them: a pong per ping, the close echo, the failure's
// close frame. Stops at a close, a failure, or when the bytes run out.
//
// For the fuzz targets ws_frame and ws_deflate. Single-threaded; each call builds its own
// reader, so no state is carried from one input to the next.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"

namespace wsgated::fuzz {

struct ws_setup {
    config::limits_config limits;           // max_message_size is the reader's limit
    config::compression_config compression; // as a route's `compression`
    std::string extensions;  // the client's Sec-WebSocket-Extensions; empty: none offered
    std::size_t read_size = 0;  // at most this many bytes per receive; 0: all at once
};

struct ws_message {
    bool binary = false;
    std::string payload;
};

enum class ws_end { input_ended, closed, failed };

struct ws_outcome {
    std::string response;            // the 101, as written
    std::vector<ws_message> messages;  // every message the reader delivered, in order
    ws_end how = ws_end::input_ended;
    unsigned code = 0;               // closed: the client's code (1005: none); failed: ours
    std::size_t held = 0;            // bytes the reader held when it stopped
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
