// Tests for ws/zlib_cache: the per-thread cache of idle zlib streams that no-context-takeover
// inflaters and deflaters borrow for one message.
#include "ws/zlib_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "ws/deflater.h"
#include "ws/inflater.h"

using namespace wsgated;

namespace {

const std::vector<unsigned char> hello{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};

void inflate_hello(ws::inflater& inf) {
    std::string out;
    ASSERT_EQ(inf.inflate(hello, true, out, 1000), ws::inflater::result::ok);
    ASSERT_EQ(out, "Hello");
}

}  // namespace

TEST(zlib_cache, inflaters_without_context_takeover_reuse_one_stream) {
    ws::zlib_cache::clear();
    auto before = ws::zlib_cache::created();
    ws::inflater a(15, true), b(15, true);
    inflate_hello(a);
    EXPECT_EQ(ws::zlib_cache::size(), 1u);  // given back when the message ended
    inflate_hello(b);
    inflate_hello(a);
    EXPECT_EQ(ws::zlib_cache::created() - before, 1u);
    EXPECT_EQ(ws::zlib_cache::size(), 1u);
}

TEST(zlib_cache, a_borrowed_stream_comes_back_reset) {
    ws::zlib_cache::clear();
    ws::inflater a(15, true), b(15, true);
    std::string out;
    const std::vector<unsigned char> first{0xf2, 0x48, 0xcd};
    EXPECT_EQ(a.inflate(first, false, out, 1000), ws::inflater::result::ok);
    a.reset();  // mid-message: what it had read must not reach the next borrower
    EXPECT_EQ(ws::zlib_cache::size(), 1u);
    inflate_hello(b);
}

TEST(zlib_cache, messages_in_progress_each_hold_their_own_stream) {
    ws::zlib_cache::clear();
    auto before = ws::zlib_cache::created();
    ws::inflater a(15, true), b(15, true);
    std::string out_a, out_b;
    const std::vector<unsigned char> first{0xf2, 0x48, 0xcd}, second{0xc9, 0xc9, 0x07, 0x00};
    EXPECT_EQ(a.inflate(first, false, out_a, 1000), ws::inflater::result::ok);
    EXPECT_EQ(b.inflate(first, false, out_b, 1000), ws::inflater::result::ok);
    EXPECT_EQ(ws::zlib_cache::created() - before, 2u);
    EXPECT_EQ(a.inflate(second, true, out_a, 1000), ws::inflater::result::ok);
    EXPECT_EQ(b.inflate(second, true, out_b, 1000), ws::inflater::result::ok);
    EXPECT_EQ(out_a, "Hello");
    EXPECT_EQ(out_b, "Hello");
    EXPECT_EQ(ws::zlib_cache::size(), 2u);
}

TEST(zlib_cache, streams_are_kept_per_window_and_kind) {
    ws::zlib_cache::clear();
    auto before = ws::zlib_cache::created();
    ws::inflater w15(15, true), w10(10, true);
    ws::deflater d(15, 6, 8, true);
    inflate_hello(w15);
    inflate_hello(w10);  // a 15-bit stream would do, but is not what was agreed
    std::string z;
    ASSERT_TRUE(d.compress("Hello", z));
    EXPECT_EQ(ws::zlib_cache::created() - before, 3u);
    EXPECT_EQ(ws::zlib_cache::size(), 3u);
    ASSERT_TRUE(d.compress("Hello", z));
    inflate_hello(w10);
    EXPECT_EQ(ws::zlib_cache::created() - before, 3u);
}

TEST(zlib_cache, the_cache_is_bounded) {
    ws::zlib_cache::clear();
    for (int w = 9; w <= 15; ++w) ws::zlib_cache::give_back(ws::zlib_stream::make({false, w, 0, 0}));
    EXPECT_EQ(ws::zlib_cache::size(), ws::zlib_cache::max_entries);
    // The oldest went first: 15 is still there, 9 is not.
    auto before = ws::zlib_cache::created();
    EXPECT_NE(ws::zlib_cache::take({false, 15, 0, 0}), nullptr);
    EXPECT_EQ(ws::zlib_cache::created(), before);
    EXPECT_NE(ws::zlib_cache::take({false, 9, 0, 0}), nullptr);
    EXPECT_EQ(ws::zlib_cache::created(), before + 1);
}

TEST(zlib_cache, each_thread_has_its_own) {
    ws::zlib_cache::clear();
    ws::zlib_cache::give_back(ws::zlib_stream::make({false, 15, 0, 0}));
    std::size_t other_size = 99;
    std::uint64_t other_created = 99;
    std::thread([&] {
        ws::inflater inf(15, true);
        inflate_hello(inf);
        other_size = ws::zlib_cache::size();
        other_created = ws::zlib_cache::created();
    }).join();
    EXPECT_EQ(other_size, 1u);
    EXPECT_EQ(other_created, 1u);  // it made its own, not took this thread's
    EXPECT_EQ(ws::zlib_cache::size(), 1u);
}

TEST(zlib_cache, a_stream_counts_what_zlib_allocates) {
    auto d = ws::zlib_stream::make({true, 15, 6, 8});
    ASSERT_NE(d, nullptr);
    // deflateInit2 at 15/8: 64 KiB window, 64 KiB prev, 64 KiB head, 64 KiB pending, its state.
    EXPECT_GT(d->held_bytes(), std::size_t{256} << 10);
    EXPECT_LT(d->held_bytes(), std::size_t{280} << 10);
    auto i = ws::zlib_stream::make({false, 15, 0, 0});
    ASSERT_NE(i, nullptr);
    EXPECT_GT(i->held_bytes(), std::size_t{5} << 10);  // the state only: the window comes later
    EXPECT_LT(i->held_bytes(), std::size_t{12} << 10);
}

TEST(zlib_cache, a_context_takeover_stream_is_reused_after_its_connection) {
    ws::zlib_cache::clear();
    auto before = ws::zlib_cache::created();
    {
        ws::inflater closing(15, false);
        inflate_hello(closing);
    }
    EXPECT_EQ(ws::zlib_cache::size(), 1u);
    ws::inflater next(15, true);
    inflate_hello(next);
    EXPECT_EQ(ws::zlib_cache::created() - before, 1u);
}
