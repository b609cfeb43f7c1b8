// Tests for core/worker's list of what it holds (sessions, handshakes): attach, detach, and a
// drain or reload reaching every one, also when one of them ends another meanwhile.
#include "core/worker.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

namespace {

struct probe : wsgated::core::attached, std::enable_shared_from_this<probe> {
    std::function<void()> on_drain;
    int drained = 0;
    int reconfigured = 0;
    wsgated::core::worker* owner = nullptr;
    ~probe() override {
        if (owner) owner->detach(this);  // as a session does on its way out
    }
    void drain() override {
        ++drained;
        if (on_drain) on_drain();
    }
    void reconfigure(const wsgated::core::snapshot_ptr&) override { ++reconfigured; }
    std::shared_ptr<attached> keep() override { return weak_from_this().lock(); }
};

std::vector<std::shared_ptr<probe>> attach_some(wsgated::core::worker& w, int n) {
    std::vector<std::shared_ptr<probe>> all;
    for (int i = 0; i < n; ++i) {
        all.push_back(std::make_shared<probe>());
        all.back()->owner = &w;
        w.attach(all.back());
    }
    return all;
}

}  // namespace

TEST(worker, attached_ones_are_counted_and_detached_ones_are_not) {
    wsgated::core::worker w(0);
    auto all = attach_some(w, 4);
    EXPECT_EQ(w.live(), 4u);
    w.attach(all[1]);  // twice: still one
    EXPECT_EQ(w.live(), 4u);
    w.detach(all[0].get());  // the first, a middle one, the last
    w.detach(all[2].get());
    w.detach(all[3].get());
    w.detach(all[3].get());  // twice: nothing more
    EXPECT_EQ(w.live(), 1u);
    w.drain_all();
    EXPECT_EQ(all[1]->drained, 1);
    EXPECT_EQ(all[0]->drained + all[2]->drained + all[3]->drained, 0);
}

TEST(worker, a_drain_reaches_every_one_even_when_one_ends_another) {
    wsgated::core::worker w(0);
    auto all = attach_some(w, 5);
    std::weak_ptr<probe> victim = all[2];
    // Whichever is drained first lets the victim go: it is destroyed and detaches mid-drain.
    auto kill = [&] { all[2].reset(); };
    for (auto& p : all)
        if (p) p->on_drain = kill;
    w.drain_all();
    EXPECT_TRUE(victim.expired());
    int drained = 0;
    for (auto& p : all)
        if (p) drained += p->drained;
    EXPECT_GE(drained, 4);
    EXPECT_EQ(w.live(), 4u);
    EXPECT_TRUE(w.draining());
}

TEST(worker, a_reload_reaches_every_one_and_destroyed_ones_leave_the_list) {
    wsgated::core::worker w(0);
    auto all = attach_some(w, 3);
    all.erase(all.begin());  // destroyed: detaches itself
    EXPECT_EQ(w.live(), 2u);
    w.reconfigure_all(nullptr);
    for (auto& p : all) EXPECT_EQ(p->reconfigured, 1);
}
