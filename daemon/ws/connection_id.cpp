// connection_id: see connection_id.h.
#include "ws/connection_id.h"

#include <cstdlib>

#include <openssl/rand.h>

namespace wsgated::ws {

std::string make_connection_id() {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[16];
    // RAND_bytes only fails when the CSPRNG cannot be seeded: continuing would hand out
    // guessable ids, so that is fatal.
    if (RAND_bytes(raw, sizeof raw) != 1) std::abort();
    std::string id;
    id.reserve(22);
    unsigned bits = 0, acc = 0;
    for (unsigned char b : raw) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) { bits -= 6; id.push_back(alphabet[(acc >> bits) & 63]); }
    }
    if (bits) id.push_back(alphabet[(acc << (6 - bits)) & 63]);
    return id;
}

}  // namespace wsgated::ws
