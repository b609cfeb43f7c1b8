// Tests for metrics/registry.
#include "metrics/registry.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

using namespace wsgated::metrics;

namespace {

constexpr int threads = 4;
constexpr int per_thread = 100000;

// Runs `fn` on `threads` threads at once and waits for all of them.
template <class Fn>
void on_threads(Fn fn) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(fn);
    for (auto& th : pool) th.join();
}

const std::vector<double> bounds{0.1, 1, 10};

}  // namespace

TEST(registry, counter_starts_at_zero_and_adds) {
    registry r;
    counter& c = r.add_counter("c_total", "help").with({});
    EXPECT_EQ(c.value(), 0u);
    c.inc();
    c.inc(41);
    EXPECT_EQ(c.value(), 42u);
}

TEST(registry, gauge_goes_up_down_and_can_be_set) {
    registry r;
    gauge& g = r.add_gauge("g", "help").with({});
    g.inc();
    g.inc(5);
    g.dec(2);
    EXPECT_EQ(g.value(), 4);
    g.dec(10);
    EXPECT_EQ(g.value(), -6);
    g.set(17);
    EXPECT_EQ(g.value(), 17);
}

TEST(registry, histogram_puts_a_value_equal_to_a_bound_in_that_bucket) {
    registry r;
    histogram& h = r.add_histogram("h_seconds", "help", bounds).with({});
    h.observe(0.1);  // le is inclusive
    h.observe(0.5);
    h.observe(10);
    EXPECT_EQ(h.bucket_count(0), 1u);
    EXPECT_EQ(h.bucket_count(1), 1u);
    EXPECT_EQ(h.bucket_count(2), 1u);
    EXPECT_EQ(h.bucket_count(3), 0u);
}

TEST(registry, histogram_puts_values_above_the_last_bound_in_the_inf_bucket) {
    registry r;
    histogram& h = r.add_histogram("h_seconds", "help", bounds).with({});
    h.observe(10.5);
    h.observe(std::numeric_limits<double>::infinity());
    EXPECT_EQ(h.bucket_count(3), 2u);
    EXPECT_EQ(h.count(), 2u);
}

TEST(registry, histogram_count_and_sum_follow_observations) {
    registry r;
    histogram& h = r.add_histogram("h_seconds", "help", bounds).with({});
    h.observe(0.25);
    h.observe(1.5);
    h.observe(0.000000001);
    EXPECT_EQ(h.count(), 3u);
    EXPECT_DOUBLE_EQ(h.sum(), 1.750000001);
}

TEST(registry, histogram_ignores_nan_and_adds_nothing_to_the_sum_for_negatives) {
    registry r;
    histogram& h = r.add_histogram("h_seconds", "help", bounds).with({});
    h.observe(std::nan(""));
    EXPECT_EQ(h.count(), 0u);
    h.observe(-3);
    EXPECT_EQ(h.count(), 1u);
    EXPECT_EQ(h.bucket_count(0), 1u);
    EXPECT_EQ(h.sum(), 0.0);
}

TEST(registry, histogram_drops_an_explicit_trailing_inf_bound) {
    registry r;
    auto& f = r.add_histogram("h_seconds", "help",
                              {0.5, 1, std::numeric_limits<double>::infinity()});
    EXPECT_EQ(f.bounds().size(), 2u);
    EXPECT_EQ(f.with({}).bounds().size(), 2u);
}

TEST(registry, counter_names_get_a_total_suffix_once) {
    registry r;
    EXPECT_EQ(r.add_counter("a", "help").name(), "a_total");
    EXPECT_EQ(r.add_counter("b_total", "help").name(), "b_total");
}

TEST(registry, same_label_values_give_the_same_cell) {
    registry r;
    auto& f = r.add_counter("c_total", "help", {"route"});
    EXPECT_EQ(&f.with({"/a"}), &f.with({std::string("/a")}));
}

TEST(registry, different_label_values_give_different_cells) {
    registry r;
    auto& f = r.add_counter("c_total", "help", {"backend", "outcome"});
    counter& ok = f.with({"b", "ok"});
    counter& err = f.with({"b", "error"});
    ok.inc();
    EXPECT_NE(&ok, &err);
    EXPECT_EQ(err.value(), 0u);
}

TEST(registry, cells_keep_their_address_while_others_are_added) {
    registry r;
    auto& f = r.add_gauge("g", "help", {"k"});
    gauge* first = &f.with({"0"});
    for (int i = 1; i < 1000; ++i) f.with({std::to_string(i)});
    EXPECT_EQ(first, &f.with({"0"}));
}

TEST(registry, gauges_sit_on_their_own_cache_line) {
    // Counters and histograms keep one cache-line-aligned slot per worker (registry.h).
    registry r;
    auto& f = r.add_gauge("g", "help", {"k"});
    static_assert(alignof(gauge) == 64 && sizeof(gauge) == 64);
    for (const char* k : {"a", "b", "c"})
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&f.with({k})) % 64, 0u);
}

TEST(registry, unlabelled_family_has_its_cell_before_first_use) {
    registry r;
    auto& f = r.add_counter("c_total", "help");
    int cells = 0;
    f.for_each([&](const label_values& v, const counter&) {
        EXPECT_TRUE(v.empty());
        ++cells;
    });
    EXPECT_EQ(cells, 1);
}

TEST(registry, labelled_family_has_no_cell_before_first_use) {
    registry r;
    auto& f = r.add_gauge("g", "help", {"route"});
    int cells = 0;
    f.for_each([&](const label_values&, const gauge&) { ++cells; });
    EXPECT_EQ(cells, 0);
}

TEST(registry, families_are_listed_in_registration_order) {
    registry r;
    r.add_gauge("zeta", "help");
    r.add_counter("alpha_total", "help");
    r.add_histogram("mid_seconds", "help", bounds);
    std::vector<std::string> names;
    r.for_each_family([&](const family_base& f) { names.push_back(f.name()); });
    EXPECT_EQ(names, (std::vector<std::string>{"zeta", "alpha_total", "mid_seconds"}));
}

TEST(registry, concurrent_counter_increments_sum_exactly) {
    registry r;
    counter& c = r.add_counter("c_total", "help").with({});
    on_threads([&] {
        for (int i = 0; i < per_thread; ++i) c.inc();
    });
    EXPECT_EQ(c.value(), std::uint64_t{threads} * per_thread);
}

TEST(registry, concurrent_gauge_incs_and_decs_cancel_out) {
    registry r;
    gauge& g = r.add_gauge("g", "help").with({});
    on_threads([&] {
        for (int i = 0; i < per_thread; ++i) {
            g.inc();
            g.dec();
        }
    });
    EXPECT_EQ(g.value(), 0);
}

TEST(registry, concurrent_histogram_observations_are_all_counted) {
    registry r;
    histogram& h = r.add_histogram("h_seconds", "help", bounds).with({});
    on_threads([&] {
        for (int i = 0; i < per_thread; ++i) h.observe(0.001);  // exactly 1,000,000 ns
    });
    EXPECT_EQ(h.count(), std::uint64_t{threads} * per_thread);
    EXPECT_EQ(h.bucket_count(0), std::uint64_t{threads} * per_thread);
    EXPECT_DOUBLE_EQ(h.sum(), threads * per_thread * 0.001);
}

TEST(registry, concurrent_lookups_of_one_label_set_share_a_cell) {
    registry r;
    auto& f = r.add_counter("c_total", "help", {"route"});
    on_threads([&] {
        for (int i = 0; i < 1000; ++i) f.with({"/same"}).inc();
    });
    EXPECT_EQ(f.with({"/same"}).value(), std::uint64_t{threads} * 1000);
}

TEST(registry, metric_names_follow_the_prometheus_data_model) {
    EXPECT_TRUE(valid_metric_name("wsgate_connections"));
    EXPECT_TRUE(valid_metric_name("job:rate5m"));
    EXPECT_TRUE(valid_metric_name("_x9"));
    EXPECT_FALSE(valid_metric_name(""));
    EXPECT_FALSE(valid_metric_name("9lives"));
    EXPECT_FALSE(valid_metric_name("a-b"));
    EXPECT_FALSE(valid_metric_name("a b"));
}

TEST(registry, label_names_follow_the_prometheus_data_model) {
    EXPECT_TRUE(valid_label_name("route"));
    EXPECT_TRUE(valid_label_name("_x"));
    EXPECT_FALSE(valid_label_name("__name__"));  // reserved for Prometheus
    EXPECT_FALSE(valid_label_name("a:b"));
    EXPECT_FALSE(valid_label_name("1a"));
    EXPECT_FALSE(valid_label_name(""));
}
