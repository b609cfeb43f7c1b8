// Tests for auth/auth_cache: TTL, the entry bound (least recently used out), copies.
#include "auth/auth_cache.h"

#include <gtest/gtest.h>

using namespace wsgated::auth;
using namespace std::chrono_literals;

namespace {
auth_outcome accepted(std::string user) {
    auth_outcome o;
    o.accepted = true;
    o.who.user = std::move(user);
    return o;
}
}  // namespace

TEST(auth_cache, hit_within_ttl_miss_after) {
    auth_cache cache(10, 1000ms);
    auto t0 = auth_cache::clock::now();
    cache.put("k", accepted("ann"), t0);
    auto hit = cache.get("k", t0 + 999ms);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->who.user, "ann");
    EXPECT_FALSE(cache.get("k", t0 + 1000ms));
    EXPECT_EQ(cache.size(), 0u);  // the expired entry is gone, not just hidden
}

TEST(auth_cache, bounded_least_recently_used_goes_first) {
    auth_cache cache(2, 60s);
    auto t0 = auth_cache::clock::now();
    cache.put("a", accepted("a"), t0);
    cache.put("b", accepted("b"), t0);
    ASSERT_TRUE(cache.get("a", t0));  // a is now more recent than b
    cache.put("c", accepted("c"), t0);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(cache.get("a", t0));
    EXPECT_FALSE(cache.get("b", t0));
    EXPECT_TRUE(cache.get("c", t0));
}

TEST(auth_cache, put_replaces_and_restarts_ttl) {
    auth_cache cache(4, 1000ms);
    auto t0 = auth_cache::clock::now();
    cache.put("k", accepted("old"), t0);
    cache.put("k", accepted("new"), t0 + 900ms);
    auto hit = cache.get("k", t0 + 1500ms);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->who.user, "new");
    EXPECT_EQ(cache.size(), 1u);
}
