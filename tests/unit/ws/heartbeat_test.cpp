// Tests for ws/heartbeat.
#include "ws/heartbeat.h"

#include <gtest/gtest.h>

using wsgated::ws::heartbeat;
using namespace std::chrono_literals;

namespace {
const heartbeat::clock::time_point t0 = heartbeat::clock::time_point{} + 1h;
}

TEST(heartbeat, first_ping_after_one_interval) {
    heartbeat hb(30s, 10s, t0);
    EXPECT_TRUE(hb.enabled());
    EXPECT_EQ(hb.deadline(), t0 + 30s);
    EXPECT_EQ(hb.on_timer(t0 + 30s), heartbeat::action::send_ping);
    EXPECT_EQ(hb.deadline(), t0 + 40s);
}

TEST(heartbeat, no_pong_and_no_data_within_timeout_reaps) {
    heartbeat hb(30s, 10s, t0);
    hb.on_activity(t0 + 5s);
    ASSERT_EQ(hb.on_timer(t0 + 30s), heartbeat::action::send_ping);
    EXPECT_EQ(hb.on_timer(t0 + 40s), heartbeat::action::reap);
}

TEST(heartbeat, pong_gives_rtt_and_next_ping_keeps_cadence) {
    heartbeat hb(30s, 10s, t0);
    ASSERT_EQ(hb.on_timer(t0 + 30s), heartbeat::action::send_ping);
    auto rtt = hb.on_pong(t0 + 30s + 15ms);
    ASSERT_TRUE(rtt);
    EXPECT_EQ(*rtt, 15ms);
    EXPECT_EQ(hb.last_rtt(), 15ms);
    EXPECT_EQ(hb.on_timer(t0 + 40s), heartbeat::action::none);
    EXPECT_EQ(hb.deadline(), t0 + 60s);
    EXPECT_EQ(hb.on_timer(t0 + 60s), heartbeat::action::send_ping);
}

TEST(heartbeat, data_instead_of_pong_keeps_the_connection) {
    heartbeat hb(30s, 10s, t0);
    ASSERT_EQ(hb.on_timer(t0 + 30s), heartbeat::action::send_ping);
    hb.on_activity(t0 + 35s);
    EXPECT_EQ(hb.on_timer(t0 + 40s), heartbeat::action::none);
    EXPECT_FALSE(hb.last_rtt());
}

TEST(heartbeat, activity_before_the_ping_does_not_count_for_it) {
    heartbeat hb(30s, 10s, t0);
    hb.on_activity(t0 + 29s);
    ASSERT_EQ(hb.on_timer(t0 + 30s), heartbeat::action::send_ping);
    EXPECT_EQ(hb.on_timer(t0 + 40s), heartbeat::action::reap);
}

TEST(heartbeat, unsolicited_pong_is_accepted_without_rtt) {
    heartbeat hb(30s, 10s, t0);
    EXPECT_FALSE(hb.on_pong(t0 + 1s));
    EXPECT_FALSE(hb.last_rtt());
    EXPECT_EQ(hb.on_timer(t0 + 30s), heartbeat::action::send_ping);
}

TEST(heartbeat, zero_interval_is_disabled) {
    heartbeat hb(0s, 10s, t0);
    EXPECT_FALSE(hb.enabled());
}

// A reload's heartbeat (ws/session reconfigure): the next ping is one new interval away.
TEST(heartbeat, retime_starts_the_new_cadence_now) {
    heartbeat hb(60s, 10s, t0);
    hb.retime(1s, 500ms, t0 + 5s);
    EXPECT_EQ(hb.deadline(), t0 + 6s);
    EXPECT_EQ(hb.on_timer(t0 + 6s), heartbeat::action::send_ping);
    EXPECT_EQ(hb.deadline(), t0 + 6s + 500ms);
    EXPECT_EQ(hb.on_timer(t0 + 6s + 500ms), heartbeat::action::reap);
}

TEST(heartbeat, retime_judges_a_ping_in_flight_by_the_new_timeout_and_keeps_the_rtt) {
    heartbeat hb(30s, 10s, t0);
    ASSERT_EQ(hb.on_timer(t0 + 30s), heartbeat::action::send_ping);
    ASSERT_TRUE(hb.on_pong(t0 + 31s));
    ASSERT_EQ(hb.on_timer(t0 + 60s), heartbeat::action::send_ping);
    hb.retime(30s, 2s, t0 + 61s);
    EXPECT_EQ(hb.deadline(), t0 + 62s);
    EXPECT_EQ(hb.last_rtt(), std::chrono::steady_clock::duration(1s));
    EXPECT_EQ(hb.on_timer(t0 + 62s), heartbeat::action::reap);
}

TEST(heartbeat, retime_to_zero_turns_it_off) {
    heartbeat hb(30s, 10s, t0);
    ASSERT_EQ(hb.on_timer(t0 + 30s), heartbeat::action::send_ping);
    hb.retime(0s, 10s, t0 + 31s);
    EXPECT_FALSE(hb.enabled());
    hb.retime(5s, 1s, t0 + 40s);
    EXPECT_EQ(hb.deadline(), t0 + 45s);
    EXPECT_EQ(hb.on_timer(t0 + 45s), heartbeat::action::send_ping);
}
