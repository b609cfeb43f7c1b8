// Tests for ws/lazy_fifo: order, and storage freed when it empties.
#include "ws/lazy_fifo.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

using wsgated::ws::lazy_fifo;

TEST(lazy_fifo, first_in_first_out) {
    lazy_fifo<int> q;
    EXPECT_TRUE(q.empty());
    for (int i = 0; i < 5; ++i) q.push_back(i);
    EXPECT_EQ(q.size(), 5u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(q.front(), i);
        q.pop_front();
    }
    q.push_back(5);
    int expect = 3;
    for (int v : q) EXPECT_EQ(v, expect++);
    EXPECT_EQ(expect, 6);
}

TEST(lazy_fifo, a_popped_item_is_released_at_once) {
    lazy_fifo<std::shared_ptr<std::string>> q;
    auto s = std::make_shared<std::string>("x");
    q.push_back(s);
    q.push_back(std::make_shared<std::string>("y"));
    EXPECT_EQ(s.use_count(), 2);
    q.pop_front();
    EXPECT_EQ(s.use_count(), 1);
    EXPECT_EQ(*q.front(), "y");
}

TEST(lazy_fifo, emptying_starts_over_from_no_storage) {
    lazy_fifo<int> q;
    q.push_back(1);
    q.pop_front();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.size(), 0u);
    q.push_back(2);
    EXPECT_EQ(q.front(), 2);
    q.clear();
    EXPECT_TRUE(q.empty());
}

TEST(lazy_fifo, a_queue_that_never_empties_keeps_its_storage_bounded) {
    lazy_fifo<int> q;
    q.push_back(0);
    for (int i = 1; i < 100000; ++i) {
        q.push_back(i);
        EXPECT_EQ(q.front(), i - 1);
        q.pop_front();
    }
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.front(), 99999);
    EXPECT_LE(q.stored(), 64u);
}
