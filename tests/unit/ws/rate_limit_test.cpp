// Tests for ws/rate_limit.
#include "ws/rate_limit.h"

#include <gtest/gtest.h>

using wsgated::ws::rate_limit;
using namespace std::chrono_literals;

namespace {
const rate_limit::clock::time_point t0 = rate_limit::clock::time_point{} + 1h;
}

TEST(rate_limit, zero_rate_is_unlimited) {
    rate_limit r(0, t0);
    for (int i = 0; i < 100000; ++i) ASSERT_TRUE(r.allow(t0));
}

TEST(rate_limit, burst_is_twice_the_rate) {
    rate_limit r(10, t0);
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(r.allow(t0)) << i;
    EXPECT_FALSE(r.allow(t0));
}

TEST(rate_limit, refills_at_the_rate) {
    rate_limit r(10, t0);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(r.allow(t0));
    EXPECT_FALSE(r.allow(t0 + 50ms));   // half a token
    EXPECT_TRUE(r.allow(t0 + 100ms));   // one token
    EXPECT_FALSE(r.allow(t0 + 100ms));
}

TEST(rate_limit, sustained_rate_passes_and_never_exceeds_burst) {
    rate_limit r(100, t0);
    int allowed = 0;
    for (int i = 0; i < 1000; ++i) allowed += r.allow(t0 + i * 10ms);  // exactly the rate
    EXPECT_EQ(allowed, 1000);
    rate_limit idle(5, t0);
    int after_idle = 0;
    for (int i = 0; i < 100; ++i) after_idle += idle.allow(t0 + 1h);  // long idle: still 2x
    EXPECT_EQ(after_idle, 10);
}
