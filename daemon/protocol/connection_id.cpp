// connection_id: see connection_id.h.
#include "protocol/connection_id.h"

#include <algorithm>
#include <cstdlib>

#include <openssl/rand.h>

namespace wsgated::protocol {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Appends `bytes` random bytes as base64url (6 bits a character, the last one zero-padded).
void append_random(std::string& out, std::size_t bytes) {
    unsigned char raw[16];
    // RAND_bytes only fails when the CSPRNG cannot be seeded: continuing would hand out
    // guessable ids, so that is fatal.
    if (bytes > sizeof raw || RAND_bytes(raw, static_cast<int>(bytes)) != 1) std::abort();
    unsigned bits = 0, acc = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(acc >> bits) & 63]);
        }
    }
    if (bits) out.push_back(alphabet[(acc << (6 - bits)) & 63]);
}

bool base64url_char(char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_';
}

}  // namespace

std::string make_node_tag() {
    std::string tag;
    tag.reserve(node_tag_size + 2);
    append_random(tag, 5);  // 40 bits → 7 characters; the first 6 are kept (36 bits)
    tag.resize(node_tag_size);
    return tag;
}

std::string make_connection_id(std::string_view node_tag) {
    std::string id;
    id.reserve(connection_id_size);
    id.append(node_tag);
    append_random(id, 16);  // 128 bits → 22 characters
    return id;
}

bool valid_connection_id(std::string_view id) {
    return id.size() == connection_id_size && std::all_of(id.begin(), id.end(), base64url_char);
}

bool valid_node_tag(std::string_view tag) {
    return tag.size() == node_tag_size && std::all_of(tag.begin(), tag.end(), base64url_char);
}

}  // namespace wsgated::protocol
