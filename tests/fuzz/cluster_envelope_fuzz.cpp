// Fuzz target: what comes out of Redis to a node (cluster/envelope, cluster/view_codec). Any
// bytes may arrive on a channel (another program publishing, a node of another version): decode
// must refuse or give views that lie inside the input, and what it accepts must encode back to
// the same bytes; a view decoded from any text must survive its own round trip.
#include <cstdint>
#include <string>

#include "cluster/envelope.h"
#include "cluster/view_codec.h"

using namespace wsgated::cluster;

namespace {

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto e = decode(in)) {
        for (auto s : {e->origin, e->a, e->b, e->c, e->payload})
            if (!inside(s, in)) __builtin_trap();
        std::string bytes = encode(*e);
        auto again = decode(bytes);
        if (bytes != in) __builtin_trap();  // one encoding per envelope
        if (!again || again->seq != e->seq || again->code != e->code || again->a != e->a || again->b != e->b ||
            again->c != e->c || again->origin != e->origin || again->payload != e->payload || again->kind != e->kind)
            __builtin_trap();
    }
    if (auto v = decode_view(in)) {
        auto back = decode_view(encode_view(*v));
        if (!back || back->info.id != v->info.id || back->rooms != v->rooms || back->info.params != v->info.params ||
            back->info.connected_at != v->info.connected_at)
            __builtin_trap();
    }
    return 0;
}
