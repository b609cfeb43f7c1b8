// conn: one client connection's state, owned by one worker for its whole life (never shared
// across threads). The generic part (socket, TLS, upgrade, output queue) is driven by
// worker; the mode part (in flight, receive position, inflater) by the mode's worker.
#pragma once

#include <openssl/ssl.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "frame_reader.h"
#include "http_reader.h"

namespace wsbench {

enum class conn_state : std::uint8_t { idle, connecting, tls, upgrading, open, closing };

struct conn {
    int fd = -1;
    SSL* ssl = nullptr;
    conn_state state = conn_state::idle;
    bool initial = true;  // not yet counted as resolved (open or failed) for the connect phase
    bool gated = false;   // holds a run_context::connecting slot
    std::int64_t t_start = 0;   // when the current connect began
    std::int64_t deadline = 0;  // end of the current connect/upgrade or close
    std::vector<std::uint8_t> out;  // bytes not yet written; one write flushes them all
    std::size_t out_off = 0;
    std::string head;               // the upgrade answer as it arrives

    // Mode state.
    frame_reader rd;
    std::uint32_t in_flight = 0;    // messages (requests) sent and not yet answered
    std::uint64_t msg_off = 0;      // bytes of the current message received so far
    std::uint8_t stamp[16] = {};    // the current message's stamp bytes, as received
    bool bad = false;               // the current message differs from what was sent
    bool compressed = false;        // the current message has RSV1
    bool deflate = false;           // permessage-deflate agreed
    bool server_no_context = false; // and the server resets its compressor per message
    z_stream* zin = nullptr;        // inflater for compressed replies
    http_reader hr;
    std::vector<std::int64_t> sent_at;  // http: send times of requests in flight, a ring
    std::uint32_t ring_head = 0;

    // Checks the next n bytes of the current message against what was sent (`payload`), keeping
    // its first `stamp_len` bytes (the stamp, which differs per message) in `stamp`.
    void compare(const std::vector<std::uint8_t>& payload, std::size_t stamp_len,
                 const std::uint8_t* p, std::size_t n) {
        std::uint64_t off = msg_off;
        msg_off += n;
        if (msg_off > payload.size()) {
            bad = true;
            return;
        }
        while (off < stamp_len && n > 0) stamp[off++] = *p++, --n;
        if (n > 0 && std::memcmp(p, payload.data() + off, n) != 0) bad = true;
    }
};

}  // namespace wsbench
