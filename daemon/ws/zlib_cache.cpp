// zlib_cache: see zlib_cache.h.
#include "ws/zlib_cache.h"

#include <array>
#include <cstdlib>
#include <utility>

namespace wsgated::ws {
namespace {

// zlib_stream's allocations carry their size in front, so that zfree can count them back.
// 16 bytes keep malloc's alignment.
constexpr std::size_t size_prefix = 16;

// This thread's idle streams, oldest first.
struct idle_streams {
    std::array<std::unique_ptr<zlib_stream>, zlib_cache::max_entries> entries;
    std::size_t count = 0;
    std::uint64_t created = 0;
    ~idle_streams();
};

// Set when this thread's cache is destroyed (thread exit): a stream given back later (by an
// object that outlives it, such as a thread_local of its own) is then simply freed. A plain
// bool: trivially destructible thread_locals stay usable until the thread is gone.
thread_local bool cache_gone = false;
thread_local idle_streams cache;

idle_streams::~idle_streams() { cache_gone = true; }

// Drops entry i, keeping the order of the others.
std::unique_ptr<zlib_stream> remove_at(std::size_t i) {
    auto s = std::move(cache.entries[i]);
    for (; i + 1 < cache.count; ++i) cache.entries[i] = std::move(cache.entries[i + 1]);
    --cache.count;
    return s;
}

}  // namespace

std::unique_ptr<zlib_stream> zlib_stream::make(const zlib_key& key) {
    std::unique_ptr<zlib_stream> s(new zlib_stream(key));
    s->z_.zalloc = &zlib_stream::alloc;
    s->z_.zfree = &zlib_stream::release;
    s->z_.opaque = s.get();
    // Negative window bits: raw deflate, no zlib header or checksum (RFC 7692 §7.2.1).
    int rc = key.deflate ? deflateInit2(&s->z_, key.level, Z_DEFLATED, -key.window_bits, key.mem_level,
                                        Z_DEFAULT_STRATEGY)
                         : inflateInit2(&s->z_, -key.window_bits);
    if (rc != Z_OK) return nullptr;
    s->initialised_ = true;
    if (!cache_gone) ++cache.created;
    return s;
}

zlib_stream::~zlib_stream() {
    if (!initialised_) return;
    if (key_.deflate) deflateEnd(&z_);
    else inflateEnd(&z_);
}

bool zlib_stream::reset() {
    return (key_.deflate ? deflateReset(&z_) : inflateReset(&z_)) == Z_OK;
}

void* zlib_stream::alloc(void* self, uInt items, uInt size) {
    std::size_t n = std::size_t{items} * size;
    auto* p = static_cast<unsigned char*>(std::malloc(n + size_prefix));
    if (!p) return Z_NULL;
    *reinterpret_cast<std::size_t*>(p) = n;
    static_cast<zlib_stream*>(self)->allocated_ += n + size_prefix;
    return p + size_prefix;
}

void zlib_stream::release(void* self, void* p) {
    if (!p) return;
    auto* base = static_cast<unsigned char*>(p) - size_prefix;
    static_cast<zlib_stream*>(self)->allocated_ -= *reinterpret_cast<std::size_t*>(base) + size_prefix;
    std::free(base);
}

std::unique_ptr<zlib_stream> zlib_cache::take(const zlib_key& key) {
    if (!cache_gone)
        for (std::size_t i = cache.count; i-- > 0;)  // the newest first: its memory is the warmest
            if (cache.entries[i]->key() == key) return remove_at(i);
    return zlib_stream::make(key);
}

void zlib_cache::give_back(std::unique_ptr<zlib_stream> s) {
    if (!s || cache_gone || !s->reset()) return;  // freed here
    if (cache.count == max_entries) remove_at(0);  // the one idle longest
    cache.entries[cache.count++] = std::move(s);
}

std::size_t zlib_cache::size() { return cache_gone ? 0 : cache.count; }

std::uint64_t zlib_cache::created() { return cache_gone ? 0 : cache.created; }

void zlib_cache::clear() {
    while (!cache_gone && cache.count > 0) remove_at(cache.count - 1);
}

}  // namespace wsgated::ws
