// zlib_cache: the zlib streams of permessage-deflate (RFC 7692), and this thread's small cache
// of idle ones, shared by ws/inflater and ws/deflater.
//
// Why a cache: under *_no_context_takeover a compressor or decompressor needs its zlib state
// only while one message passes, and that state is big (an inflater ~7 KiB + its window, a
// deflater ~6 KiB + 2^(window+2) + 2^(mem_level+9): 262 KiB at 15/8). Creating it per message
// is an allocation and a memset per message; keeping it per connection is that memory for every
// idle connection. So such streams are borrowed for one message from the worker thread's cache
// and given back reset: no allocation per message, nothing held by an idle connection. Streams
// of connections that end come back too.
//
// Thread: everything here is per thread (thread_local). A connection lives on one worker for
// life and borrows only from that worker's cache, so nothing is locked. The cache is bounded
// (max_entries): a stream given back to a full cache evicts the one idle longest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <zlib.h>

namespace wsgated::ws {

// Which stream: a raw-deflate (no zlib header) inflater or deflater with these parameters.
// Inflaters have level = mem_level = 0.
struct zlib_key {
    bool deflate = false;
    int window_bits = 15;
    int level = 0;
    int mem_level = 0;
    bool operator==(const zlib_key&) const = default;
};

// One z_stream with its zlib state, and the bytes zlib allocated for it (counted by our
// zalloc/zfree: what docs/performance.md quotes per connection). Heap-allocated and never moved:
// zlib's state points back at its z_stream.
class zlib_stream {
public:
    // nullptr when zlib cannot set it up (out of memory).
    static std::unique_ptr<zlib_stream> make(const zlib_key& key);
    ~zlib_stream();
    zlib_stream(const zlib_stream&) = delete;
    zlib_stream& operator=(const zlib_stream&) = delete;

    z_stream& z() { return z_; }
    const zlib_key& key() const { return key_; }
    // To its state right after make() (inflateReset/deflateReset: allocations are kept).
    bool reset();
    // This object and everything zlib allocated for it.
    std::size_t held_bytes() const { return sizeof(*this) + allocated_; }

private:
    explicit zlib_stream(const zlib_key& key) : key_(key) {}
    static void* alloc(void* self, uInt items, uInt size);
    static void release(void* self, void* p);

    z_stream z_{};
    zlib_key key_;
    std::size_t allocated_ = 0;
    bool initialised_ = false;
};

class zlib_cache {
public:
    static constexpr std::size_t max_entries = 4;  // per thread

    // A reset stream for `key`: an idle one of this thread's, else a new one (nullptr: zlib could
    // not allocate it).
    static std::unique_ptr<zlib_stream> take(const zlib_key& key);
    // Resets `s` and keeps it for the next take() of its key on this thread (a stream that does
    // not reset is dropped). Null is ignored.
    static void give_back(std::unique_ptr<zlib_stream> s);

    // For tests and docs: idle streams cached on this thread, and streams ever created here.
    static std::size_t size();
    static std::uint64_t created();
    static void clear();  // drops this thread's idle streams
};

}  // namespace wsgated::ws
