// Tests for net/conn_limits.
#include "core/conn_limits.h"

#include <gtest/gtest.h>

#include <vector>

using wsgated::core::conn_limits;
using wsgated::core::conn_slot;

TEST(conn_limits, admits_up_to_the_total_then_refuses) {
    conn_limits l;
    conn_slot a, b, c;
    EXPECT_EQ(l.acquire("1.1.1.1", 2, 10, a), conn_limits::verdict::ok);
    EXPECT_EQ(l.acquire("2.2.2.2", 2, 10, b), conn_limits::verdict::ok);
    EXPECT_EQ(l.acquire("3.3.3.3", 2, 10, c), conn_limits::verdict::over_total);
    EXPECT_FALSE(c.held());
    EXPECT_EQ(l.total(), 2u);
}

TEST(conn_limits, per_address_limit_is_independent_per_address) {
    conn_limits l;
    std::vector<conn_slot> slots(3);
    EXPECT_EQ(l.acquire("1.1.1.1", 100, 2, slots[0]), conn_limits::verdict::ok);
    EXPECT_EQ(l.acquire("1.1.1.1", 100, 2, slots[1]), conn_limits::verdict::ok);
    conn_slot refused;
    EXPECT_EQ(l.acquire("1.1.1.1", 100, 2, refused), conn_limits::verdict::over_per_address);
    EXPECT_EQ(l.acquire("2.2.2.2", 100, 2, slots[2]), conn_limits::verdict::ok);
    EXPECT_EQ(l.count("1.1.1.1"), 2u);
}

TEST(conn_limits, releasing_a_slot_frees_both_counts_and_forgets_the_address) {
    conn_limits l;
    {
        conn_slot s;
        ASSERT_EQ(l.acquire("1.1.1.1", 1, 1, s), conn_limits::verdict::ok);
        conn_slot moved = std::move(s);
        EXPECT_FALSE(s.held());
        EXPECT_TRUE(moved.held());
        EXPECT_EQ(l.total(), 1u);
    }
    EXPECT_EQ(l.total(), 0u);
    EXPECT_EQ(l.count("1.1.1.1"), 0u);
    conn_slot again;
    EXPECT_EQ(l.acquire("1.1.1.1", 1, 1, again), conn_limits::verdict::ok);
}

TEST(conn_limits, zero_per_address_limit_refuses_without_leaking_an_entry) {
    conn_limits l;
    conn_slot s;
    EXPECT_EQ(l.acquire("1.1.1.1", 10, 0, s), conn_limits::verdict::over_per_address);
    EXPECT_EQ(l.count("1.1.1.1"), 0u);
}
