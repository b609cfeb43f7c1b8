// accept_response: see accept_response.h.
#include "ws/accept_response.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace wsgated::ws {

std::string websocket_accept(std::string_view key) {
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string input;
    input.reserve(key.size() + guid.size());
    input.append(key).append(guid);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
    return {reinterpret_cast<const char*>(out), static_cast<std::size_t>(n)};
}

std::string accept_response(std::string_view key, std::string_view subprotocol, std::string_view extensions) {
    std::string r;
    r.reserve(192 + subprotocol.size() + extensions.size());
    r.append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
    r.append("Sec-WebSocket-Accept: ").append(websocket_accept(key)).append("\r\n");
    if (!subprotocol.empty()) r.append("Sec-WebSocket-Protocol: ").append(subprotocol).append("\r\n");
    if (!extensions.empty()) r.append("Sec-WebSocket-Extensions: ").append(extensions).append("\r\n");
    r.append("Server: wsgated/" WSGATED_VERSION "\r\n\r\n");
    return r;
}

}  // namespace wsgated::ws
