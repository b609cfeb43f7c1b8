// envelope: what one node says to the others through a Redis channel (SPEC §8), as bytes.
//
//   'w' kind op flags  varint(seq) varint(code)  4 × (varint(length) bytes)  payload…
//
// The four strings are origin (the sender's node tag), a, b and c, whose meaning depends on the
// kind (below); the payload is the rest of the bytes, so a message payload crosses Redis as it
// is, never re-encoded. A pure function pair: decode() never trusts its input (a fuzz target
// feeds it garbage) and returns nullopt for anything that is not a whole, valid envelope.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wsgated::cluster {

enum class kind : char {
    publish = 'P',     // a = room, b = exclude (an id or empty); flags binary; payload
    broadcast = 'B',   // flags binary; payload
    user_send = 'U',   // a = user; flags binary; payload
    user_join = 'J',   // a = user, b = room; flags join (else leave)
    user_close = 'C',  // a = user, b = reason; code
    request = 'Q',     // seq = request number; op; a = connection id; b = room or reason; code;
                       // flags binary, wait_written, join; payload (send)
    reply = 'R',       // seq = the request's number; op = hub::outcome; flags changed; payload = view JSON
    probe = 'p',       // seq: a node's own round trip through Redis (/readyz)
    hello = 'H',       // a new node: the others add it to their list of nodes at once
};

// A request's operation.
enum class op : std::uint8_t { none = 0, send = 1, close = 2, join = 3, view = 4 };

namespace flag {
inline constexpr std::uint8_t binary = 1, wait_written = 2, join = 4, changed = 8;
}

struct envelope {
    cluster::kind kind = kind::probe;
    std::uint8_t op = 0;
    std::uint8_t flags = 0;
    std::uint64_t seq = 0;
    std::uint64_t code = 0;
    std::string_view origin{}, a{}, b{}, c{}, payload{};  // views: of the caller's strings, or of the decoded bytes
};

// The bytes of `e` (the views are copied).
std::string encode(const envelope& e);
// `bytes` as an envelope whose views point into `bytes`; nullopt when malformed.
std::optional<envelope> decode(std::string_view bytes);

// A node tag: exactly what protocol::make_node_tag draws (6 base64url characters).
bool valid_origin(std::string_view tag);
// Whether a decoded request carries what the control API would accept (admin/control_call):
// rooms and users with valid names, an exclude that is a connection id, a close code of
// 1000/3000-4999 with a valid reason. A node of another version, or anyone who can publish on
// Redis, must not make this node join a room no name allows or send a code no server may.
bool valid_fields(const envelope& e);

}  // namespace wsgated::cluster
