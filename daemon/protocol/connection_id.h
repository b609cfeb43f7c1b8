// connection_id: the id of a client connection, routable across a cluster:
//
//   NNNNNN RRRRRRRRRRRRRRRRRRRRRR     28 characters of base64url ([A-Za-z0-9_-]), no padding
//   node   128 random bits
//
// The first 6 characters are the node tag: 36 random bits drawn once when the process starts,
// so any node can tell from an id alone which node holds the connection (hub::delivery sends a
// call for another node's connection over the bus, SPEC §8). The other 22 are 128 bits from
// OpenSSL's CSPRNG for each connection, so ids cannot be guessed and do not repeat. A restarted
// process draws a new tag: ids of its previous life are answered "no such connection".
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsgated::protocol {

inline constexpr std::size_t node_tag_size = 6;
inline constexpr std::size_t connection_id_size = node_tag_size + 22;

// 6 base64url characters from the CSPRNG: this process's node tag.
std::string make_node_tag();
// `node_tag` followed by 128 fresh random bits.
std::string make_connection_id(std::string_view node_tag);
// The shape above: exactly 28 characters of the base64url alphabet.
bool valid_connection_id(std::string_view id);
// The shape of a node tag: exactly 6 characters of the base64url alphabet.
bool valid_node_tag(std::string_view tag);
// The node tag of a valid id.
inline std::string_view node_tag_of(std::string_view id) { return id.substr(0, node_tag_size); }

// An id held in place: 28 characters fit no std::string's inline buffer, and every connection
// would hold a heap block for it (idle memory, docs/performance.md). Longer text is cut (ids
// of other shapes come only from tests).
class stored_id {
public:
    stored_id() = default;
    explicit stored_id(std::string_view id) : size_(static_cast<std::uint8_t>(std::min(id.size(), connection_id_size))) {
        std::copy_n(id.data(), size_, chars_.data());
    }
    std::string_view view() const { return {chars_.data(), size_}; }
    operator std::string_view() const { return view(); }

private:
    std::array<char, connection_id_size> chars_{};
    std::uint8_t size_ = 0;
};

}  // namespace wsgated::protocol
