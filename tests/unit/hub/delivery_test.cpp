// Tests for hub/delivery: every call resolves same worker / other worker / other node itself and
// answers on the caller's executor; ids carry the node tag; a bus sees only other nodes' targets.
#include "hub/delivery.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "protocol/connection_id.h"
#include "ws/session_phase.h"

using namespace wsgated;

namespace {

struct fake_connection final : core::connection {
    fake_connection(std::string i, std::string u) : id_(std::move(i)), user_(std::move(u)) {}
    std::string_view id() const override { return id_; }
    const std::string& user() const override { return user_; }
    void send(core::message m) override {
        got.push_back(*m.data);
        if (m.on_written) written.push_back(std::move(m.on_written));
    }
    void send_copy(std::string_view p, bool) override { got.emplace_back(p); }
    void close(std::uint16_t code, std::string_view) override { closed = code; }
    void resume_reading() override {}
    core::connection_info info() const override {
        core::connection_info i;
        i.id = id_;
        i.user = user_;
        return i;
    }
    std::string id_, user_;
    std::vector<std::string> got;
    std::vector<core::message::written_fn> written;
    std::uint16_t closed = 0;
};

// A bus that records what reaches it (the other nodes' share) and answers with fixed counts.
struct recording_bus final : hub::bus {
    std::vector<std::string> calls;
    bool connected() const override { return true; }
    void answer(hub::reply_executor& ex, hub::count_fn& done, std::uint64_t n) {
        boost::asio::post(ex, [done = std::move(done), n] { done(hub::outcome::ok, n); });
    }
    void send(const std::string& id, core::message, bool, hub::reply_executor ex, hub::outcome_fn done) override {
        calls.push_back("send " + id);
        boost::asio::post(ex, [done = std::move(done)] { done(hub::outcome::unavailable); });
    }
    void close(const std::string& id, std::uint16_t, const std::string&, hub::reply_executor ex,
               hub::outcome_fn done) override {
        calls.push_back("close " + id);
        boost::asio::post(ex, [done = std::move(done)] { done(hub::outcome::ok); });
    }
    void join(const std::string&, const std::string& id, bool, hub::reply_executor ex, hub::change_fn done) override {
        calls.push_back("join " + id);
        boost::asio::post(ex, [done = std::move(done)] { done(hub::outcome::ok, true); });
    }
    void view(const std::string& id, hub::reply_executor ex, hub::view_fn done) override {
        calls.push_back("view " + id);
        boost::asio::post(ex, [done = std::move(done)] { done(hub::outcome::not_found, {}); });
    }
    void publish(const std::string& room, const core::message&, const std::string&, hub::reply_executor ex,
                 hub::count_fn done) override {
        calls.push_back("publish " + room);
        answer(ex, done, 5);
    }
    void send_to_user(const std::string& u, const core::message&, hub::reply_executor ex, hub::count_fn done) override {
        calls.push_back("user " + u);
        answer(ex, done, 2);
    }
    void broadcast(const core::message&, hub::reply_executor ex, hub::count_fn done) override {
        calls.push_back("broadcast");
        answer(ex, done, 7);
    }
    void join_user(const std::string& u, const std::string&, bool, hub::reply_executor ex, hub::count_fn done) override {
        calls.push_back("join_user " + u);
        answer(ex, done, 1);
    }
    void close_user(const std::string& u, std::uint16_t, const std::string&, hub::reply_executor ex,
                    hub::count_fn done) override {
        calls.push_back("close_user " + u);
        answer(ex, done, 1);
    }
    void room_count(const std::string&, hub::reply_executor ex, hub::count_fn done) override { answer(ex, done, 3); }
    void room_members(const std::string&, hub::reply_executor ex, hub::members_fn done) override {
        boost::asio::post(ex, [done = std::move(done)] { done(hub::outcome::ok, {{"ZZZZZZx", "zed", "ZZZZZZ"}}); });
    }
    void user_connections(const std::string&, hub::reply_executor ex, hub::members_fn done) override {
        boost::asio::post(ex, [done = std::move(done)] { done(hub::outcome::ok, {}); });
    }
    // Memberships, heard on the workers' threads.
    std::mutex mutex;
    std::vector<std::string> changes;
    void note(std::string s) {
        std::lock_guard lock(mutex);
        changes.push_back(std::move(s));
    }
    void entered(const core::connection& c) override { note("enter " + c.user()); }
    void exited(const core::connection& c) override { note("exit " + c.user()); }
    void joined(const std::string& room, const core::connection& c) override { note("join " + room + " " + c.user()); }
    void left(const std::string& room, const core::connection& c) override { note("leave " + room + " " + c.user()); }
};

// Two workers on their own threads and a caller's io_context on this one: an answer that ran
// on a worker thread instead of the caller's would be seen by the thread-id check.
struct delivery_fixture : ::testing::Test {
    core::process_state state{2};
    boost::asio::io_context w0, w1, caller;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> g0{w0.get_executor()},
        g1{w1.get_executor()};
    std::thread t0{[this] { w0.run(); }}, t1{[this] { w1.run(); }};
    recording_bus bus;  // before d: the delivery's observer outlives it
    std::unique_ptr<hub::delivery> d;
    std::unique_ptr<fake_connection> a, b, c;

    void SetUp() override {
        state.set_worker_context(0, w0);
        state.set_worker_context(1, w1);
        d = std::make_unique<hub::delivery>(state);
        a = std::make_unique<fake_connection>(d->new_connection_id(), "alice");
        b = std::make_unique<fake_connection>(d->new_connection_id(), "bob");
        c = std::make_unique<fake_connection>(d->new_connection_id(), "alice");
        on(w0, [&] { d->enter(*a, 0); d->enter(*b, 0); });
        on(w1, [&] { d->enter(*c, 1); });
    }
    void TearDown() override {
        on(w0, [&] { d->leave_all(*a, 0); d->leave_all(*b, 0); });
        on(w1, [&] { d->leave_all(*c, 1); });
        g0.reset();
        g1.reset();
        t0.join();
        t1.join();
    }
    // Runs fn on a worker and waits for it (a connection's own-worker calls).
    template <class F>
    void on(boost::asio::io_context& w, F fn) {
        std::promise<void> p;
        boost::asio::post(w, [&] { fn(); p.set_value(); });
        p.get_future().wait();
    }
    // Runs the caller's context until `done` is set (bounded).
    void wait(const bool& done) { wait_for([&] { return done; }); }
    // Runs the caller's context until pred() or 10 s of wall time (CI's loaded cores: the
    // workers' answers may take a while to be posted).
    template <class Pred>
    void wait_for(Pred pred) {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!pred() && std::chrono::steady_clock::now() < until) {
            caller.restart();
            if (caller.poll() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        ASSERT_TRUE(pred());
    }
    core::message msg(std::string s) { return core::message{std::make_shared<const std::string>(std::move(s)), false, {}}; }
};

}  // namespace

TEST(connection_id, carries_the_node_tag_and_128_random_bits) {
    auto tag = protocol::make_node_tag();
    ASSERT_EQ(tag.size(), 6u);
    auto id = protocol::make_connection_id(tag);
    EXPECT_EQ(id.size(), 28u);
    EXPECT_TRUE(protocol::valid_connection_id(id));
    EXPECT_EQ(protocol::node_tag_of(id), tag);
    EXPECT_NE(id, protocol::make_connection_id(tag));
    EXPECT_FALSE(protocol::valid_connection_id(id.substr(0, 22)));
    EXPECT_FALSE(protocol::valid_connection_id(id.substr(0, 27) + "="));
}

TEST(session_phase, every_step_goes_forward) {
    using p = ws::session_phase;
    EXPECT_TRUE(ws::legal_step(p::handshake, p::open));
    EXPECT_TRUE(ws::legal_step(p::handshake, p::closing));  // a drain during the 101
    EXPECT_TRUE(ws::legal_step(p::handshake, p::finished));
    EXPECT_TRUE(ws::legal_step(p::open, p::closing));
    EXPECT_TRUE(ws::legal_step(p::closing, p::finished));
    EXPECT_FALSE(ws::legal_step(p::closing, p::open));
    EXPECT_FALSE(ws::legal_step(p::finished, p::open));
    EXPECT_FALSE(ws::legal_step(p::open, p::open));
}

TEST_F(delivery_fixture, send_reaches_the_connection_on_its_worker_and_answers_on_the_caller) {
    bool done = false;
    auto me = std::this_thread::get_id();
    d->send(std::string(c->id()), msg("hi"), false, caller.get_executor(), [&](hub::outcome o) {
        EXPECT_EQ(o, hub::outcome::ok);
        EXPECT_EQ(std::this_thread::get_id(), me);
        done = true;
    });
    wait(done);
    on(w1, [&] { EXPECT_EQ(c->got, std::vector<std::string>{"hi"}); });
    on(w0, [&] { EXPECT_TRUE(a->got.empty()); });
}

TEST_F(delivery_fixture, send_with_wait_answers_written_or_gone) {
    std::vector<hub::outcome> got;
    d->send(std::string(a->id()), msg("1"), true, caller.get_executor(), [&](hub::outcome o) { got.push_back(o); });
    d->send(std::string(a->id()), msg("2"), true, caller.get_executor(), [&](hub::outcome o) { got.push_back(o); });
    on(w0, [&] {});  // both sends ran on worker 0
    on(w0, [&] {
        ASSERT_EQ(a->written.size(), 2u);
        a->written[0](true);
        a->written[1](false);
    });
    wait_for([&] { return got.size() == 2; });
    EXPECT_EQ(got[0], hub::outcome::ok);
    EXPECT_EQ(got[1], hub::outcome::gone);
}

TEST_F(delivery_fixture, an_unknown_id_of_this_node_is_not_found_and_another_nodes_goes_to_the_bus) {
    d->set_bus(bus);
    bool done = false;
    auto ours = d->new_connection_id();
    d->close(ours, 4000, "x", caller.get_executor(), [&](hub::outcome o) { EXPECT_EQ(o, hub::outcome::not_found); done = true; });
    wait(done);
    EXPECT_TRUE(bus.calls.empty()) << "this node's ids never reach the bus";
    done = false;
    std::string other = "ZZZZZZ" + ours.substr(6);
    d->send(other, msg("x"), false, caller.get_executor(), [&](hub::outcome o) { EXPECT_EQ(o, hub::outcome::unavailable); done = true; });
    wait(done);
    EXPECT_EQ(bus.calls, std::vector<std::string>{"send " + other});
}

TEST_F(delivery_fixture, join_then_publish_counts_every_node_and_excludes) {
    d->set_bus(bus);
    bool done = false;
    d->join("r", std::string(a->id()), true, caller.get_executor(), [&](hub::outcome o, bool changed) {
        EXPECT_EQ(o, hub::outcome::ok);
        EXPECT_TRUE(changed);
        done = true;
    });
    wait(done);
    on(w1, [&] { EXPECT_TRUE(d->join(*c, 1, "r")); EXPECT_FALSE(d->join(*c, 1, "r")); });
    done = false;
    std::uint64_t members = 0;
    d->publish("r", msg("news"), std::string(a->id()), caller.get_executor(), [&](hub::outcome o, std::uint64_t n) { members = n; done = true; });
    wait(done);
    EXPECT_EQ(members, 2u + 5u) << "two here (the excluded one counted) and the bus's five";
    on(w0, [&] { EXPECT_TRUE(a->got.empty()) << "excluded"; });
    on(w1, [&] { EXPECT_EQ(c->got, std::vector<std::string>{"news"}); });
    done = false;
    std::vector<hub::member> list;
    d->room_members("r", caller.get_executor(), [&](hub::outcome, std::vector<hub::member> ms) { list = ms; done = true; });
    wait(done);
    ASSERT_EQ(list.size(), 3u);
    std::vector<std::string> ids{std::string(a->id()), std::string(c->id()), "ZZZZZZx"};
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ((std::vector<std::string>{list[0].id, list[1].id, list[2].id}), ids);
    for (auto& m : list) {
        if (m.id != "ZZZZZZx") EXPECT_EQ(m.node, d->node_tag());
    }
}

TEST_F(delivery_fixture, user_calls_reach_every_connection_of_the_user_on_every_worker) {
    bool done = false;
    std::uint64_t n = 0;
    d->join_user("alice", "team", true, caller.get_executor(), [&](hub::outcome, std::uint64_t k) { n = k; done = true; });
    wait(done);
    EXPECT_EQ(n, 2u);
    done = false;
    d->send_to_user("alice", msg("yo"), caller.get_executor(), [&](hub::outcome, std::uint64_t k) { n = k; done = true; });
    wait(done);
    on(w0, [&] { EXPECT_EQ(a->got, std::vector<std::string>{"yo"}); EXPECT_TRUE(b->got.empty()); });
    on(w1, [&] { EXPECT_EQ(c->got, std::vector<std::string>{"yo"}); });
    done = false;
    d->room_count("team", caller.get_executor(), [&](hub::outcome, std::uint64_t k) { n = k; done = true; });
    wait(done);
    EXPECT_EQ(n, 2u);
    done = false;
    d->close_user("alice", 4001, "bye", caller.get_executor(), [&](hub::outcome, std::uint64_t k) { n = k; done = true; });
    wait(done);
    on(w0, [&] { EXPECT_EQ(a->closed, 4001); EXPECT_EQ(b->closed, 0); });
    on(w1, [&] { EXPECT_EQ(c->closed, 4001); });
    done = false;
    std::vector<hub::member> list;
    d->user_connections("alice", caller.get_executor(), [&](hub::outcome, std::vector<hub::member> ms) { list = ms; done = true; });
    wait(done);
    EXPECT_EQ(list.size(), 2u);
}

TEST_F(delivery_fixture, view_has_the_info_and_the_sorted_rooms) {
    on(w0, [&] { d->join(*b, 0, "z"); d->join(*b, 0, "a"); });
    bool done = false;
    hub::connection_view v;
    d->view(std::string(b->id()), caller.get_executor(), [&](hub::outcome o, hub::connection_view got) {
        EXPECT_EQ(o, hub::outcome::ok);
        v = std::move(got);
        done = true;
    });
    wait(done);
    EXPECT_EQ(v.info.id, std::string(b->id()));
    EXPECT_EQ(v.rooms, (std::vector<std::string>{"a", "z"}));
}

// A stream backend's actions, applied on its worker: that worker's share runs before the call
// returns, so a publish then a send to one member reach it in that order.
TEST_F(delivery_fixture, calls_made_on_a_worker_run_its_share_inline_in_order) {
    on(w0, [&] {
        d->join(*a, 0, "r");
        d->publish("r", msg("published"), "", caller.get_executor(), [](hub::outcome, std::uint64_t) {});
        EXPECT_EQ(a->got, std::vector<std::string>{"published"});  // already there
        d->send(std::string(a->id()), msg("sent"), false, caller.get_executor(), [](hub::outcome) {});
        EXPECT_EQ(a->got, (std::vector<std::string>{"published", "sent"}));
        d->broadcast(msg("all"), caller.get_executor(), [](hub::outcome, std::uint64_t) {});
        EXPECT_EQ(a->got.size(), 3u);
        EXPECT_EQ(d->local_connection(0, std::string(a->id())), a.get());
        EXPECT_EQ(d->local_connection(0, std::string(c->id())), nullptr);  // on worker 1
        EXPECT_EQ(d->rooms_of(*a, 0), std::vector<std::string>{"r"});
    });
    on(w1, [&] { EXPECT_EQ(c->got, std::vector<std::string>{"all"}); });  // posted, ran in turn
}

TEST_F(delivery_fixture, calls_from_outside_the_workers_are_posted) {
    bool done = false;
    d->broadcast(msg("x"), caller.get_executor(), [&](hub::outcome, std::uint64_t) { done = true; });
    wait(done);
    on(w0, [&] { EXPECT_EQ(a->got, std::vector<std::string>{"x"}); });
}

TEST_F(delivery_fixture, the_bus_hears_every_membership_change_after_it_happens) {
    d->set_bus(bus);
    on(w0, [&] {
        EXPECT_TRUE(d->join(*a, 0, "r"));
        EXPECT_FALSE(d->join(*a, 0, "r"));  // no change, nothing heard
        EXPECT_TRUE(d->leave(*a, 0, "r"));
        EXPECT_TRUE(d->join(*b, 0, "s"));
        d->leave_all(*b, 0);  // leaves its rooms, then exits
        d->enter(*b, 0);
    });
    bool done = false;
    d->join_user("alice", "t", true, caller.get_executor(), [&](hub::outcome, std::uint64_t) { done = true; });
    wait(done);
    std::lock_guard lock(bus.mutex);
    std::vector<std::string> on_w0(bus.changes.begin(), bus.changes.begin() + 6);
    EXPECT_EQ(on_w0, (std::vector<std::string>{"join r alice", "leave r alice", "join s bob", "leave s bob",
                                               "exit bob", "enter bob"}));
    std::vector<std::string> rest(bus.changes.begin() + 6, bus.changes.end());
    std::sort(rest.begin(), rest.end());
    EXPECT_EQ(rest, (std::vector<std::string>{"join t alice", "join t alice"}));
}
