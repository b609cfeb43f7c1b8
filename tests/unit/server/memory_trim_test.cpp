// Tests for server/memory_trim: which falls in the number of open connections are drain points
// (where freed memory is handed back to the system), and that a trim runs on the control loop.
#include "server/memory_trim.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

using wsgated::server::crowd_left;

TEST(memory_trim, a_quarter_of_the_connections_leaving_is_a_drain_point) {
    EXPECT_TRUE(crowd_left(10000, 0));
    EXPECT_TRUE(crowd_left(10000, 7500));
    EXPECT_FALSE(crowd_left(10000, 7600));  // less than a quarter
    EXPECT_FALSE(crowd_left(10000, 10000));
}

TEST(memory_trim, a_few_connections_leaving_is_not) {
    EXPECT_FALSE(crowd_left(100, 0));  // fewer than 256: nothing worth a walk of the arenas
    EXPECT_TRUE(crowd_left(256, 0));
    EXPECT_FALSE(crowd_left(0, 0));
    EXPECT_FALSE(crowd_left(5, 10));  // more than the peak: no drop
}

TEST(memory_trim, asks_the_count_on_its_timer_and_stops) {
    boost::asio::io_context control;
    std::atomic<int> asked{0};
    wsgated::server::memory_trim trim(control, [&] { ++asked; return std::size_t{0}; });
    trim.start();
    control.run_for(std::chrono::milliseconds(2500));
    EXPECT_GE(asked.load(), 1);
    trim.stop();
    int seen = asked.load();
    control.restart();
    control.run_for(std::chrono::milliseconds(2500));
    EXPECT_EQ(asked.load(), seen);
}
