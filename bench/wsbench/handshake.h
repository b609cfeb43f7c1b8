// handshake: the client side of the HTTP/1.1 upgrade (RFC 6455 §4.1): the request, and the
// check of the answer (101, Sec-WebSocket-Accept, the permessage-deflate answer). Every
// connection sends the same key, so the accept value is a constant compare.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "target.h"

namespace wsbench {

std::string upgrade_request(const target& t, const std::vector<std::string>& headers,
                            bool offer_deflate);

struct upgrade_answer {
    enum class state { incomplete, ok, bad } st = state::incomplete;
    std::size_t head_len = 0;        // bytes of the head; what follows is frames
    bool deflate = false;            // permessage-deflate accepted
    bool server_no_context = false;  // the server resets its compressor per message
    std::string why;                 // for state::bad: what was wrong (first line, header)
};

// Looks at what has arrived so far (`buf`); incomplete until the blank line.
upgrade_answer check_upgrade_answer(std::string_view buf);

}  // namespace wsbench
