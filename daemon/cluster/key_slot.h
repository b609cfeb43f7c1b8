// key_slot: the Redis Cluster hash slot of a key or sharded channel (0..16383): CRC16 (XMODEM)
// of the key, or of its hash tag — the text between the first '{' and the next '}' when that is
// not empty — modulo 16384, as Redis computes it. wsgated's names carry a tag per room, node and
// user (cluster/channels.h), so a room's channel and every presence key of that room share a
// slot, and so a shard.
#pragma once

#include <cstdint>
#include <string_view>

namespace wsgated::cluster {

inline constexpr std::uint16_t slot_count = 16384;

std::uint16_t crc16_xmodem(std::string_view bytes);
std::uint16_t key_slot(std::string_view key);

}  // namespace wsgated::cluster
