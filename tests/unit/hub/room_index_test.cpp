// Tests for hub/room_index and hub/local_hub: both sides of membership, and empty rooms freed.
#include "hub/local_hub.h"
#include "hub/room_index.h"

#include <gtest/gtest.h>

using namespace wsgated;

namespace {

struct fake_connection final : core::connection {
    explicit fake_connection(std::string i) : id_(std::move(i)) {}
    std::string_view id() const override { return id_; }
    const std::string& user() const override { return user_; }
    void send(core::message m) override { got.push_back(m.data); }
    void send_copy(std::string_view p, bool) override {
        got.push_back(std::make_shared<const std::string>(p));
    }
    void close(std::uint16_t, std::string_view) override {}
    void resume_reading() override {}
    core::connection_info info() const override { return {}; }
    std::string id_, user_;
    std::vector<std::shared_ptr<const std::string>> got;
};

struct hub_fixture : ::testing::Test {
    metrics::registry reg;
    metrics::gauge& gauge = reg.add_gauge("wsgate_rooms", "rooms").with({});
    hub::room_index index{2, gauge};
    hub::local_hub w0{0, index}, w1{1, index};
    fake_connection a{"a"}, b{"b"}, c{"c"};
    void SetUp() override { w0.add(&a); w0.add(&b); w1.add(&c); }
};

}  // namespace

TEST_F(hub_fixture, join_counts_members_per_worker_and_rooms) {
    EXPECT_TRUE(w0.join("r", &a));
    EXPECT_FALSE(w0.join("r", &a));  // already a member
    EXPECT_TRUE(w0.join("r", &b));
    EXPECT_TRUE(w1.join("r", &c));
    EXPECT_TRUE(w1.join("s", &c));
    EXPECT_EQ(index.members("r"), 3u);
    EXPECT_EQ(index.workers_of("r"), (std::vector<unsigned>{0, 1}));
    EXPECT_EQ(index.workers_of("s"), (std::vector<unsigned>{1}));
    EXPECT_EQ(index.rooms(), 2u);
    EXPECT_EQ(gauge.value(), 2);
}

TEST_F(hub_fixture, publish_shares_one_buffer_and_honours_exclude) {
    w0.join("r", &a);
    w0.join("r", &b);
    auto data = std::make_shared<const std::string>("hi");
    EXPECT_EQ(w0.publish("r", {data, false, nullptr}, "b"), 1u);
    ASSERT_EQ(a.got.size(), 1u);
    EXPECT_EQ(a.got[0].get(), data.get());  // the same buffer, not a copy
    EXPECT_TRUE(b.got.empty());
    EXPECT_EQ(w0.publish("nobody", {data, false, nullptr}, ""), 0u);
}

TEST_F(hub_fixture, leaving_and_removal_free_empty_rooms) {
    w0.join("r", &a);
    w0.join("q", &a);
    w1.join("r", &c);
    EXPECT_TRUE(w0.leave("r", &a));
    EXPECT_FALSE(w0.leave("r", &a));
    EXPECT_EQ(index.members("r"), 1u);
    w1.remove(&c);  // a closing connection leaves every room
    EXPECT_EQ(index.members("r"), 0u);
    EXPECT_EQ(index.workers_of("r"), std::vector<unsigned>{});
    EXPECT_EQ(w0.rooms_of(&a), std::vector<std::string>{"q"});
    EXPECT_EQ(w1.find("c"), nullptr);
    EXPECT_EQ(index.rooms(), 1u);
    EXPECT_EQ(gauge.value(), 1);
}

TEST_F(hub_fixture, broadcast_reaches_every_local_connection) {
    auto data = std::make_shared<const std::string>("all");
    EXPECT_EQ(w0.broadcast({data, true, nullptr}), 2u);
    EXPECT_EQ(a.got.size(), 1u);
    EXPECT_EQ(b.got.size(), 1u);
    EXPECT_TRUE(c.got.empty());
}
