// pending_calls: the calls waiting for other nodes' answers (cluster/pending_calls.h).
#include "cluster/pending_calls.h"

#include <gtest/gtest.h>

#include <optional>

namespace wsgated::cluster {
namespace {

using clock = pending_calls::clock;
using namespace std::chrono_literals;

struct recorder {
    std::optional<call_result> result;
    pending_calls::done_fn fn() {
        return [this](call_result r) { result = std::move(r); };
    }
};

TEST(pending_calls, a_fan_out_waits_for_every_node_that_heard_it) {
    pending_calls calls;
    recorder rec;
    auto seq = calls.open(true, clock::now() + 10s, rec.fn());
    calls.answered(seq, "B", call_result{hub::outcome::ok, 3});  // an answer before Redis's own
    calls.heard_by(seq, 3);
    calls.answered(seq, "A", call_result{hub::outcome::ok, 0});  // this node's
    calls.needs(seq, {"B", "C"}, false);
    EXPECT_FALSE(rec.result);
    calls.answered(seq, "B", call_result{hub::outcome::ok, 3});  // twice from one node: once
    EXPECT_FALSE(rec.result);
    calls.answered(seq, "C", call_result{hub::outcome::ok, 2});
    ASSERT_TRUE(rec.result);
    EXPECT_EQ(rec.result->outcome, hub::outcome::ok);
    EXPECT_EQ(rec.result->count, 5u);
    EXPECT_EQ(calls.size(), 0u);
    calls.answered(seq, "D", call_result{hub::outcome::ok, 9});  // late: ignored
    EXPECT_EQ(rec.result->count, 5u);
}

TEST(pending_calls, a_fan_out_waits_for_its_needs_too) {
    pending_calls calls;
    recorder rec;
    auto seq = calls.open(true, clock::now() + 10s, rec.fn());
    calls.heard_by(seq, 1);
    calls.answered(seq, "A", call_result{hub::outcome::ok, 0});
    EXPECT_FALSE(rec.result);
    calls.needs(seq, {}, false);
    ASSERT_TRUE(rec.result);
    EXPECT_EQ(rec.result->outcome, hub::outcome::ok);
}

TEST(pending_calls, a_node_that_had_to_hear_and_did_not_makes_it_unavailable) {
    pending_calls calls;
    recorder missed, unknown;
    auto a = calls.open(true, clock::now() + 10s, missed.fn());
    calls.needs(a, {"B", "C"}, false);
    calls.heard_by(a, 1);  // only B was subscribed: C is reconnecting
    calls.answered(a, "B", call_result{hub::outcome::ok, 4});
    ASSERT_TRUE(missed.result);
    EXPECT_EQ(missed.result->outcome, hub::outcome::unavailable);
    EXPECT_EQ(missed.result->count, 4u);  // what did get it
    auto b = calls.open(true, clock::now() + 10s, unknown.fn());
    calls.heard_by(b, 0);
    calls.needs(b, {}, true);  // a node heard lately is out of sync
    ASSERT_TRUE(unknown.result);
    EXPECT_EQ(unknown.result->outcome, hub::outcome::unavailable);
}

// Redis counts subscriber connections: an old one of a node that reconnected (Redis has not
// noticed it is dead), or someone's PSUBSCRIBE, is a listener that never answers.
TEST(pending_calls, a_listener_that_never_answers_does_not_hold_a_fan_out) {
    pending_calls calls;
    recorder rec;
    auto seq = calls.open(true, clock::now() + 10s, rec.fn());
    calls.heard_by(seq, 4);  // A, B, C and a stale connection of B's
    calls.needs(seq, {"B", "C"}, false);
    calls.answered(seq, "A", call_result{hub::outcome::ok, 0});
    calls.answered(seq, "B", call_result{hub::outcome::ok, 2});
    EXPECT_FALSE(rec.result) << "C had to hear it and has not answered yet";
    calls.answered(seq, "C", call_result{hub::outcome::ok, 1});
    ASSERT_TRUE(rec.result) << "every node that had to hear it answered";
    EXPECT_EQ(rec.result->outcome, hub::outcome::ok);
    EXPECT_EQ(rec.result->count, 3u);
}

TEST(pending_calls, a_call_for_a_node_nobody_listens_to_is_not_found) {
    pending_calls calls;
    recorder rec;
    calls.heard_by(calls.open(false, clock::now() + 10s, rec.fn()), 0);
    ASSERT_TRUE(rec.result);
    EXPECT_EQ(rec.result->outcome, hub::outcome::not_found);
}

TEST(pending_calls, a_single_call_takes_its_answer) {
    pending_calls calls;
    recorder rec;
    auto seq = calls.open(false, clock::now() + 10s, rec.fn());
    calls.heard_by(seq, 1);
    calls.answered(seq, "B", call_result{hub::outcome::gone, 0, true, "v"});
    ASSERT_TRUE(rec.result);
    EXPECT_EQ(rec.result->outcome, hub::outcome::gone);
    EXPECT_TRUE(rec.result->changed);
    EXPECT_EQ(rec.result->payload, "v");
}

TEST(pending_calls, deadlines_end_calls_a_node_never_answered) {
    pending_calls calls;
    recorder single, fan;
    auto now = clock::now();
    auto s = calls.open(false, now + 1s, single.fn());
    auto f = calls.open(true, now + 1s, fan.fn());
    calls.heard_by(s, 1);
    calls.heard_by(f, 3);
    calls.needs(f, {"B", "C"}, false);
    calls.answered(f, "B", call_result{hub::outcome::ok, 4});
    EXPECT_EQ(calls.expire(now), 0u);
    EXPECT_EQ(calls.expire(now + 2s), 2u);
    EXPECT_EQ(single.result->outcome, hub::outcome::unavailable);
    EXPECT_EQ(fan.result->outcome, hub::outcome::unavailable);  // one that heard never answered
    EXPECT_EQ(fan.result->count, 4u);                           // what the answering nodes counted
}

TEST(pending_calls, a_failed_publish_and_a_lost_link_answer_unavailable) {
    pending_calls calls;
    recorder a, b;
    calls.failed(calls.open(true, clock::now() + 10s, a.fn()));
    EXPECT_EQ(a.result->outcome, hub::outcome::unavailable);
    calls.open(false, clock::now() + 10s, b.fn());
    calls.fail_all();
    EXPECT_EQ(b.result->outcome, hub::outcome::unavailable);
    EXPECT_EQ(calls.size(), 0u);
}

}  // namespace
}  // namespace wsgated::cluster
