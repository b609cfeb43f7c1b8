// Fuzz target: what a Redis Cluster answers about its shape (cluster/shard_map, cluster/key_slot).
// Any bytes may come back from a server that says it is Redis: every reply parsed from them must
// be refused or give a map whose every slot names a listed master (or none), with no master
// twice; a redirect must name a slot and a port in range; any key has a slot in range.
#include <algorithm>
#include <cstdint>
#include <string>

#include "cluster/key_slot.h"
#include "cluster/shard_map.h"

using namespace wsgated::cluster;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (key_slot(in) >= slot_count) __builtin_trap();
    resp_reader reader;
    if (!reader.feed(in.data(), in.size())) return 0;
    for (int i = 0; i < 16; ++i) {
        reply_ptr r = reader.next();
        if (!r || reader.failed()) break;
        std::string why;
        for (bool tls : {false, true}) {
            if (auto map = parse_cluster_shards(*r, tls, why)) {
                if (map->masters.empty() || map->owner.size() != slot_count) __builtin_trap();
                for (auto o : map->owner)
                    if (o != no_shard && o >= map->masters.size()) __builtin_trap();
                for (std::size_t a = 0; a < map->masters.size(); ++a)
                    for (std::size_t b = a + 1; b < map->masters.size(); ++b)
                        if (map->masters[a] == map->masters[b]) __builtin_trap();
            } else if (why.empty()) {
                __builtin_trap();  // a refusal says why
            }
        }
        if (auto to = parse_redirect(text_of(r.get()))) {
            if (to->slot >= slot_count || to->to.port == 0) __builtin_trap();
        }
    }
    return 0;
}
